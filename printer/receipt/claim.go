package receipt

import (
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/printer/escpos"
)

// Claim is the receipt of a request the kiosk accepted while the hub could
// not be reached: no certificate and no protocol number exist yet, so it
// carries the claim code (printed large and in a QR the counter can scan)
// that finds the request again when the citizen comes back.
type Claim struct {
	Shop       string
	Address    string
	LegalName  string // as on Receipt
	PartitaIVA string
	OperatorID string
	Time       time.Time
	Types      []string // DESIGN.md identifiers of the certificates asked for
	Fees       []Fee    // as agreed at the counter
	// TotalCents, when not zero, must equal the sum of Fees.
	TotalCents int64
	Code       string // the outbox's claim code, "ABC-DEF-GHJ"
	Lang       Lang
	// Collect is a self-service kiosk's claim: nothing was paid, and the
	// citizen collects the certificate there with the code and the same
	// CIE once the city has confirmed the request, paying then; nothing
	// is printed unattended (issue 15, item 5).
	Collect bool
	// Paid: a Collect claim already paid (the hub went away after the
	// payment): the receipt says so rather than that nothing was paid.
	Paid bool
	// IdentityPending says the kiosk identified the citizen itself while
	// the Comune could not be reached (a new customer served offline):
	// the receipt then says, instead of the usual wait, that the
	// certificate is issued only once the Comune confirms who they are.
	IdentityPending bool
}

// Total is the sum of the fee lines.
func (c Claim) Total() int64 { return sum(c.Fees) }

// Validate reports the first thing that would make a misleading claim receipt.
func (c Claim) Validate() error {
	switch {
	case c.Lang != Italian && c.Lang != English:
		return fmt.Errorf("claim receipt language %q is neither it nor en", c.Lang)
	case strings.TrimSpace(c.Shop) == "":
		return fmt.Errorf("claim receipt has no shop name")
	case c.Time.IsZero():
		return fmt.Errorf("claim receipt has no date and time")
	case len(c.Types) == 0:
		return fmt.Errorf("claim receipt lists no certificate")
	case strings.TrimSpace(c.Code) == "":
		return fmt.Errorf("claim receipt has no claim code, so the citizen could not collect the certificate")
	}
	for _, t := range c.Types {
		if t == "" {
			return fmt.Errorf("claim receipt has an empty certificate type")
		}
	}
	return validFees("claim receipt", c.Fees, c.TotalCents)
}

// EncodeClaim renders a claim receipt as ESC/POS for a printer profile. It
// begins and ends like the counter receipt, so a citizen recognises it, and
// says plainly that it is not a certificate.
func EncodeClaim(c Claim, p escpos.Profile) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	t := texts[c.Lang]
	cols, cp := p.Paper.Columns, p.CodePage
	e := escpos.NewEncoder(p)
	header(e, t, issuer{c.Shop, c.LegalName, c.Address, c.PartitaIVA}, c.OperatorID, c.Time)

	e.Align(escpos.Center).Bold(true).Line(t.claimTitle).Bold(false)
	for _, l := range wrap(t.notCertificate, cols, cp) {
		e.Line(l)
	}
	e.Align(escpos.Left).Line(strings.Repeat("-", cols))
	e.Bold(true)
	for _, ty := range c.Types {
		for _, l := range wrap(t.certificate(ty), cols, cp) {
			e.Line(l)
		}
	}
	e.Bold(false).Line(strings.Repeat("-", cols))
	feeLines(e, t, c.Fees, c.Lang)
	e.Feed(1)

	e.Align(escpos.Center).Line(t.claimCode)
	// Double width and height: read aloud or typed from across the counter.
	e.Bold(true).Size(2, 2).Line(c.Code).Size(1, 1).Bold(false)
	e.QR(c.Code, qrModule(p), escpos.ECCMedium)
	e.Align(escpos.Left)
	wait := t.claimWait
	switch {
	case c.Collect:
		// A self-service kiosk's claim says collection and identity both.
		wait = t.claimCollect
		if c.Paid {
			wait = t.claimCollectPaid
		}
	case c.IdentityPending:
		wait = t.claimIdentity
	}
	for _, l := range wrap(wait, cols, cp) {
		e.Line(l)
	}
	e.Feed(1)
	footer(e, t)
	return e.Bytes()
}

// DemoClaim is a claim receipt with an exemption line and accented text,
// for tests and `kiosk printer test`.
func DemoClaim(at time.Time, lang Lang) Claim {
	return Claim{
		Shop:       "Edicola Città Studi",
		LegalName:  "Rossi Giornali S.n.c.",
		Address:    "Piazza Leonardo da Vinci 32, Milano",
		PartitaIVA: "01234567897",
		OperatorID: "OP-0042",
		Time:       at,
		Types:      []string{"residenza", "stato_di_famiglia"},
		Fees: []Fee{
			{Kind: Exemption, Code: "9 - pensione estera"},
			{Kind: Diritti, Cents: 26},
			{Kind: Service, Cents: 200},
		},
		TotalCents: 226,
		Code:       "7KX-M4Q-TZ2",
		Lang:       lang,
	}
}
