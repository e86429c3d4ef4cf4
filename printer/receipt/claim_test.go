package receipt

import (
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/printer/escpos"
)

// TestEncodeClaim reads the claim receipt back as a printer would print it:
// what it must say, in which style, and a QR that scans to the claim code.
func TestEncodeClaim(t *testing.T) {
	tests := []struct {
		model  string
		paper  int
		lang   Lang
		want   []string // lines that must appear, exactly
		native bool
	}{
		{"tm-t20", 80, Italian, []string{
			"Edicola Città Studi", "Operatore: OP-0042", "12/03/2026 14:05",
			"RICEVUTA DI PRENOTAZIONE", "Questa ricevuta non è un certificato.",
			"Certificato di residenza", "Certificato di stato di famiglia",
			"Bollo" + strings.Repeat(" ", 48-5-6) + "esente",
			"Diritti di segreteria" + strings.Repeat(" ", 48-21-6) + "0,26 €",
			"Servizio" + strings.Repeat(" ", 48-8-6) + "2,00 €",
			"TOTALE" + strings.Repeat(" ", 48-6-6) + "2,26 €",
			"Codice di ritiro", "7KX-M4Q-TZ2",
		}, true},
		{"tm-t88", 80, English, []string{
			"Operator: OP-0042", "12/03/2026 14:05", "CLAIM RECEIPT", "This receipt is not a certificate.",
			"Certificate of residence", "Family status certificate",
			"TOTAL" + strings.Repeat(" ", 42-5-5) + "€2.26", "Claim code", "7KX-M4Q-TZ2",
		}, true},
		{"generic", 58, Italian, []string{
			"RICEVUTA DI PRENOTAZIONE",
			"TOTALE" + strings.Repeat(" ", 32-6-8) + "2,26 EUR", "7KX-M4Q-TZ2",
		}, false},
	}
	for _, tt := range tests {
		name := "claim_" + tt.model + "_" + itoa(tt.paper) + "_" + string(tt.lang)
		t.Run(name, func(t *testing.T) {
			p, err := escpos.Lookup(tt.model, tt.paper)
			if err != nil {
				t.Fatal(err)
			}
			c := DemoClaim(demoTime, tt.lang)
			got, err := EncodeClaim(c, p)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, got)
			doc := readBack(t, got, p, tt.want, tt.native, c.Code)
			if l, ok := doc.Find(c.Code); !ok || !l.Bold || l.Width != 2 || l.Height != 2 || l.Align != 1 {
				t.Errorf("claim code line is %+v, want bold, centred, double width and height", l)
			}
			if _, ok := doc.Find("Prot."); ok {
				t.Errorf("a claim receipt shows a protocol number, but none exists yet:\n%s", doc.Text())
			}
			// The promise, whole: printed when the link is back, or on return.
			text := strings.Join(strings.Fields(doc.Text()), " ")
			wait := map[Lang][]string{Italian: {"appena tornerà", "quando tornerai con questa ricevuta"},
				English: {"as soon as it is back", "when you come back with this receipt"}}[tt.lang]
			for _, w := range wait {
				if !strings.Contains(text, w) {
					t.Errorf("claim receipt does not say %q:\n%s", w, doc.Text())
				}
			}
		})
	}
}

func TestValidateClaim(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Claim)
		want   string
	}{
		{"language", func(c *Claim) { c.Lang = "fr" }, "language"},
		{"shop", func(c *Claim) { c.Shop = "" }, "shop"},
		{"time", func(c *Claim) { c.Time = time.Time{} }, "date"},
		{"types", func(c *Claim) { c.Types = nil }, "no certificate"},
		{"empty type", func(c *Claim) { c.Types = []string{""} }, "empty certificate type"},
		{"code", func(c *Claim) { c.Code = " " }, "claim code"},
		{"negative", func(c *Claim) { c.Fees[1].Cents = -5 }, "negative"},
		{"total", func(c *Claim) { c.TotalCents = 1 }, "differs"},
	}
	p, _ := escpos.Lookup("tm-t20", 80)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DemoClaim(demoTime, Italian)
			c.Fees = append([]Fee(nil), c.Fees...)
			tt.change(&c)
			_, err := EncodeClaim(c, p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("EncodeClaim error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if err := DemoClaim(demoTime, English).Validate(); err != nil {
		t.Errorf("demo claim does not validate: %v", err)
	}
}

// TestClaimIdentityPending: the claim receipt of a new customer served
// while the Comune could not be reached says, in words a citizen
// understands, that the certificate is issued once the Comune confirms
// who they are, and what happens if it does not, instead of promising
// to print it when the link is back.
func TestClaimIdentityPending(t *testing.T) {
	for lang, want := range map[Lang][]string{
		Italian: {"non ha ancora potuto confermare la tua identità", "sarà rilasciato appena il Comune la confermerà", "ritiralo con questa ricevuta", "quanto pagato ti sarà restituito"},
		English: {"could not yet confirm who you are", "issued as soon as the city confirms your identity", "collect it with this receipt", "what you paid is given back"},
	} {
		p, _ := escpos.Lookup("tm-t20", 80)
		c := DemoClaim(demoTime, lang)
		c.IdentityPending = true
		got, err := EncodeClaim(c, p)
		if err != nil {
			t.Fatal(err)
		}
		doc := readBack(t, got, p, []string{c.Code}, true, c.Code)
		text := strings.Join(strings.Fields(doc.Text()), " ")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the receipt does not say %q:\n%s", lang, w, doc.Text())
			}
		}
		if strings.Contains(text, "appena tornerà") || strings.Contains(text, "as soon as it is back") {
			t.Errorf("%s: the receipt promises printing on the link's return:\n%s", lang, doc.Text())
		}
	}
}
