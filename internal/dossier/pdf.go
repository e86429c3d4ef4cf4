package dossier

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/pdffont"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// Render lays the dossier out on A4, in Italian, dated at: what a counter
// prints at the citizen's request and a self-service kiosk's A4 printer
// prints after CIE and PIN.
func Render(d *api.Dossier, at time.Time) ([]byte, error) {
	f, err := pdffont.NewA4("P")
	if err != nil {
		return nil, err
	}
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.SetCatalogSort(true)
	f.SetTitle("Fascicolo del cittadino "+d.Person.CF, true)
	f.SetMargins(15, 15, 15)
	f.SetAutoPageBreak(true, 15)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-11)
		f.SetFont(pdffont.Family, "", 7)
		f.CellFormat(0, 4, fmt.Sprintf("Fascicolo di %s · stampato il %s · pagina %d di {nb}", d.Person.CF,
			at.In(protocol.Rome).Format("02/01/2006 15:04"), f.PageNo()), "", 0, "C", false, 0, "")
	})
	f.AddPage()
	f.SetFont(pdffont.Family, "B", 15)
	f.MultiCell(0, 7, "Fascicolo del cittadino", "", "L", false)
	f.SetFont(pdffont.Family, "B", 12)
	f.MultiCell(0, 6, d.Person.Surname+" "+d.Person.GivenNames+" ("+d.Person.CF+")", "", "L", false)
	f.SetFont(pdffont.Family, "", 8)
	f.MultiCell(0, 4, "Dati come risultano all'anagrafe il "+at.In(protocol.Rome).Format("02/01/2006")+
		". Questo documento non è un certificato e non sostituisce i certificati anagrafici.", "", "L", false)

	p := d.Person
	section(f, "I miei dati")
	pairs(f, [][2]string{
		{"Codice fiscale", p.CF}, {"Cognome e nome", p.Surname + " " + p.GivenNames}, {"Sesso", p.Sex},
		{"Nato/a il", italianDate(p.BirthDate) + " a " + p.BirthPlace}, {"Cittadinanza", p.Citizenship},
		{"Stato civile", p.CivilStatus}, {"Residenza", p.Address + sinceText(p.ResidentSince)},
		{"E-mail per gli avvisi", orNone(p.Email)}, {"Procedimento aperto", openText(p.ProcedureOpen)},
	})

	section(f, "La mia famiglia anagrafica")
	if len(d.Household) == 0 {
		line(f, "Nessun altro componente.")
	}
	for _, m := range d.Household {
		line(f, fmt.Sprintf("%s (%s), nato/a il %s — %s", m.Name, m.CF, italianDate(m.BirthDate), m.Relationship))
	}

	section(f, "I miei documenti")
	if len(d.Documents) == 0 {
		line(f, "Nessun documento d'identità registrato.")
	}
	for _, doc := range d.Documents {
		line(f, fmt.Sprintf("%s n. %s, rilasciato il %s, scade il %s — %s", docKind(doc.Kind), doc.Number, italianDate(doc.Issued),
			italianDate(doc.Expires), docState(doc)))
	}

	section(f, "Certificati rilasciati")
	if len(d.Certificates) == 0 {
		line(f, "Nessun certificato rilasciato.")
	}
	for _, c := range d.Certificates {
		s := fmt.Sprintf("%s — protocollo %s, %s, %s", c.Title, c.Protocol, c.Issued.In(protocol.Rome).Format("02/01/2006 15:04"), channelText(c.Channel))
		if c.SubjectCF != p.CF {
			s += ", richiesto da lei per " + c.SubjectName
		} else if c.RequesterCF != "" && c.RequesterCF != p.CF {
			s += ", richiesto da " + c.RequesterCF
		}
		if c.Delegation != "" {
			s += " con la delega " + c.Delegation
		}
		if c.Status == "revoked" {
			s += " — REVOCATO"
		} else if c.CopyAvailable {
			s += " — copia ristampabile"
		}
		line(f, s)
	}

	section(f, "Le mie pratiche")
	if len(d.Requests) == 0 {
		line(f, "Nessuna pratica presentata.")
	}
	for _, r := range d.Requests {
		s := fmt.Sprintf("%s — presentata il %s, stato: %s", r.Title, r.Filed.In(protocol.Rome).Format("02/01/2006"), r.Status)
		if r.Protocol != "" {
			s += ", protocollo " + r.Protocol
		}
		line(f, s)
	}

	section(f, "I miei appuntamenti")
	if len(d.Appointments) == 0 {
		line(f, "Nessun appuntamento.")
	}
	for _, a := range d.Appointments {
		line(f, fmt.Sprintf("%s — %s, %s, stato: %s (rif. %s)", a.Service, a.At.In(protocol.Rome).Format("02/01/2006 15:04"), a.Office, a.Status, a.Ref))
	}

	section(f, "Deleghe che ho conferito")
	delegations(f, d.DelegationsGiven, true)
	section(f, "Deleghe che ho ricevuto")
	delegations(f, d.DelegationsReceived, false)

	section(f, "Chi ha consultato i miei dati (ultimi 12 mesi)")
	if len(d.AccessLog) == 0 {
		line(f, "Nessuna consultazione registrata.")
	}
	for _, l := range d.AccessLog {
		s := fmt.Sprintf("%s — %s: %s, %s", l.Time.In(protocol.Rome).Format("02/01/2006 15:04"), l.Place, l.What, l.Why)
		if l.Clerk != "" {
			s += " (operatore " + l.Clerk + ")"
		}
		if l.Reference != "" {
			s += ", protocollo " + l.Reference
		}
		line(f, s)
	}
	if d.AccessTotal > len(d.AccessLog) {
		line(f, fmt.Sprintf("Sono stampate le %d consultazioni più recenti di %d: le altre si vedono alla postazione self-service.", len(d.AccessLog), d.AccessTotal))
	}

	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		return nil, fmt.Errorf("cannot render the dossier: %w", err)
	}
	return b.Bytes(), nil
}

func section(f *fpdf.Fpdf, title string) {
	f.Ln(3)
	f.SetFont(pdffont.Family, "B", 11)
	f.CellFormat(0, 6, title, "B", 1, "L", false, 0, "")
	f.Ln(1)
}

func line(f *fpdf.Fpdf, s string) {
	f.SetFont(pdffont.Family, "", 8.5)
	f.MultiCell(0, 4.3, "• "+s, "", "L", false)
}

func pairs(f *fpdf.Fpdf, kv [][2]string) {
	for _, p := range kv {
		f.SetFont(pdffont.Family, "B", 8.5)
		f.CellFormat(45, 4.5, p[0], "", 0, "L", false, 0, "")
		f.SetFont(pdffont.Family, "", 8.5)
		f.MultiCell(0, 4.5, p[1], "", "L", false)
	}
}

func delegations(f *fpdf.Fpdf, ds []api.Delegation, given bool) {
	if len(ds) == 0 {
		line(f, "Nessuna.")
	}
	for _, d := range ds {
		who := "a " + nameOr(d.DelegateName, d.DelegateCF)
		if !given {
			who = "da " + nameOr(d.DelegatorName, d.DelegatorCF)
		}
		var scope []string
		if len(d.Scope.Certificates) > 0 {
			scope = append(scope, "certificati "+strings.Join(d.Scope.Certificates, ", "))
		}
		if len(d.Scope.Requests) > 0 {
			scope = append(scope, "pratiche "+strings.Join(d.Scope.Requests, ", "))
		}
		if d.Scope.Appointments {
			scope = append(scope, "appuntamenti")
		}
		line(f, fmt.Sprintf("Delega %s %s per %s, fino al %s — %s, atti compiuti: %d", d.ID, who, strings.Join(scope, "; "), italianDate(d.Until), d.State, len(d.Uses)))
		for _, u := range d.Uses {
			s := fmt.Sprintf("    usata il %s: %s", u.At.In(protocol.Rome).Format("02/01/2006 15:04"), u.Service)
			if u.Place != "" {
				s += " presso " + u.Place
			}
			f.SetFont(pdffont.Family, "", 8)
			f.MultiCell(0, 4, s, "", "L", false)
		}
	}
}

func nameOr(name, cf string) string {
	if name == "" {
		return cf
	}
	return name + " (" + cf + ")"
}

func italianDate(s string) string {
	d, err := registry.ParseDate(s)
	if err != nil {
		return s
	}
	return d.Italian()
}

func sinceText(s string) string {
	if s == "" {
		return ""
	}
	return " (dal " + italianDate(s) + ")"
}

func orNone(s string) string {
	if s == "" {
		return "nessuna"
	}
	return s
}

func openText(s string) string {
	if s == "" {
		return "nessuno"
	}
	return "aperto dal " + italianDate(s) + " (i certificati sono sospesi fino alla sua chiusura)"
}

func docKind(k string) string {
	switch k {
	case "CIE":
		return "Carta d'identità elettronica"
	case "PASSPORT":
		return "Passaporto"
	case "CI":
		return "Carta d'identità cartacea"
	}
	return k
}

func docState(d api.DossierDocument) string {
	switch d.State {
	case "in scadenza":
		return fmt.Sprintf("in scadenza tra %d giorni: prenoti il rinnovo", d.DaysLeft)
	case "":
		return "—"
	}
	return d.State
}

func channelText(c string) string {
	switch c {
	case "counter":
		return "allo sportello di un esercizio convenzionato"
	case "self_service":
		return "alla postazione self-service"
	case "office":
		return "all'ufficio anagrafe"
	}
	return c
}
