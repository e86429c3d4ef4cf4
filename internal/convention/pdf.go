package convention

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/pdffont"
	"github.com/sportello/sportello/internal/protocol"
)

// notApplied is what the agreement says of a control this hub does not
// apply: no value is printed for it, since none is enforced.
const notApplied = "Controllo non applicato da questa versione di Sportello: il sistema non lo fa rispettare, quindi qui non se ne riporta alcun valore."

// doc is an A4 document in the embedded DejaVu Sans, which has every
// letter of Italian names and the typographic signs the text uses.
type doc struct {
	*fpdf.Fpdf
	margin float64
}

// newDoc starts a document dated at: the same kit gives the same bytes, so
// the digests in the manifest and in the agreement can be checked again.
func newDoc(orientation, title, footer string, at time.Time) (*doc, error) {
	f, err := pdffont.NewA4(orientation)
	if err != nil {
		return nil, err
	}
	f.SetTitle(title, true)
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.SetCatalogSort(true) // fonts in a fixed order, not Go's map order
	const margin = 18
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-13)
		f.SetFont("dejavu", "", 7.5)
		f.CellFormat(0, 5, fmt.Sprintf("%s · pagina %d di {nb}", footer, f.PageNo()), "", 0, "C", false, 0, "")
	})
	f.AddPage()
	return &doc{Fpdf: f, margin: margin}, nil
}

func (d *doc) bytes() ([]byte, error) {
	var b bytes.Buffer
	if err := d.Output(&b); err != nil {
		return nil, fmt.Errorf("cannot render the PDF: %w", err)
	}
	return b.Bytes(), nil
}

func (d *doc) title(s string) {
	d.SetFont("dejavu", "B", 14)
	d.MultiCell(0, 7, s, "", "L", false)
}

func (d *doc) heading(s string) {
	d.Ln(3)
	// A heading alone at the foot of a page reads as belonging to nothing.
	_, h := d.GetPageSize()
	if d.GetY() > h-d.margin-25 {
		d.AddPage()
	}
	d.SetFont("dejavu", "B", 11)
	d.MultiCell(0, 6.5, s, "", "L", false)
	d.Ln(0.5)
}

func (d *doc) para(s string) {
	d.SetFont("dejavu", "", 9.5)
	d.MultiCell(0, 4.8, s, "", "L", false)
	d.Ln(1)
}

// pairs prints label/value lines, the value wrapping beside its label.
func (d *doc) pairs(kv []Setting) {
	w, _ := d.GetPageSize()
	const lw = 62
	for _, p := range kv {
		d.row([]float64{lw, w - 2*d.margin - lw}, []string{p.Label, p.Value}, []string{"B", ""}, 9.5, 4.8, "")
	}
}

// control prints a control's heading and its settings, or notApplied when
// this hub does not apply it (nil settings).
func (d *doc) control(heading string, settings *[]Setting) {
	d.heading(heading)
	if settings == nil {
		d.para(notApplied)
		return
	}
	d.pairs(*settings)
}

// table prints a header and rows in columns of widths, each cell wrapping
// within its column and a row never split across pages.
func (d *doc) table(widths []float64, head []string, rows [][]string, size float64) {
	d.SetFillColor(230, 236, 245)
	d.row(widths, head, []string{"B"}, size, size*0.5, "F")
	for _, r := range rows {
		if d.row(widths, r, nil, size, size*0.5, "") {
			d.SetFillColor(230, 236, 245)
		}
	}
}

// row prints one row; styles[i] is column i's font style (the last one
// given holds for the rest). fill "F" shades it. It reports whether it
// started a new page.
func (d *doc) row(widths []float64, cells, styles []string, size, lh float64, fill string) bool {
	style := func(i int) string {
		switch {
		case len(styles) == 0:
			return ""
		case i < len(styles):
			return styles[i]
		}
		return styles[len(styles)-1]
	}
	lines := 1
	for i, c := range cells {
		d.SetFont("dejavu", style(i), size)
		if n := len(d.SplitText(c, widths[i]-2)); n > lines {
			lines = n
		}
	}
	h := float64(lines)*lh + 1.2
	_, ph := d.GetPageSize()
	paged := false
	if d.GetY()+h > ph-d.margin {
		d.AddPage()
		paged = true
	}
	x, y := d.GetX(), d.GetY()
	for i, c := range cells {
		d.SetFont("dejavu", style(i), size)
		d.SetXY(x, y)
		if fill == "F" {
			d.Rect(x, y, widths[i], h, "F")
		}
		d.SetXY(x+1, y+0.6)
		d.MultiCell(widths[i]-2, lh, c, "", "L", false)
		x += widths[i]
	}
	d.SetDrawColor(200, 200, 200)
	d.Line(d.margin, y+h, x, y+h)
	d.SetXY(d.margin, y+h)
	return paged
}

func (k *Kit) footer(what string) string {
	return fmt.Sprintf("%s · %s · %s (%s)", k.City.Comune, what, k.Operator.DisplayName(), k.Operator.ID)
}

func (k *Kit) generated() string {
	return k.Generated.In(protocol.Rome).Format("02/01/2006 15:04")
}

// agreementPDF is the convention with its controls; annexes are the files
// written before it, listed with their digests.
func (k *Kit) agreementPDF(annexes []File) ([]byte, error) {
	o, a := k.Operator, k.Operator.Agreement
	d, err := newDoc("P", "Convenzione "+o.ID, k.footer("convenzione"), k.Generated)
	if err != nil {
		return nil, err
	}
	d.SetFont("dejavu", "B", 12)
	d.CellFormat(0, 6, k.City.Comune, "", 1, "L", false, 0, "")
	d.title("Convenzione per il rilascio di certificati anagrafici presso un esercizio convenzionato")
	d.para(fmt.Sprintf("Documento prodotto da Sportello il %s. Riporta le condizioni della convenzione e i controlli che il sistema applica a quella data; "+
		"dove un controllo non è applicato lo dice, senza indicarne valori.", k.generated()))

	d.heading("1. Le parti")
	city := []Setting{{"Comune", k.City.Comune}, {"Ufficio", k.City.Office}}
	if k.City.Address != "" {
		city = append(city, Setting{"Indirizzo dell'ufficio", k.City.Address})
	}
	d.pairs(city)
	d.Ln(1)
	d.pairs([]Setting{
		{"Esercente", o.LegalName},
		{"Insegna", o.DisplayName()},
		{"Partita IVA", o.PartitaIVA},
		{"Categoria", o.Category.Label()},
		{"Sede", o.Address.String()},
		{"Codice esercente", o.ID},
		{"Stato nel sistema", statusIT(string(o.Status))},
	})

	d.heading("2. Oggetto, durata e corrispettivo")
	var types []string
	for _, t := range a.Types {
		types = append(types, typeName(t))
	}
	d.pairs([]Setting{
		{"Durata", fmt.Sprintf("dal %s al %s", a.Signed.Italian(), a.Expires.Italian())},
		{"Certificati rilasciabili", strings.Join(types, "; ")},
		{"Corrispettivo di servizio", fees.Euro(int64(a.FeeCents)) + " per certificato, oltre all'imposta di bollo e ai diritti di segreteria, che l'esercente incassa per conto dello Stato e del Comune"},
	})

	d.heading("3. Ruoli nel trattamento dei dati personali")
	d.para("Il Comune è titolare del trattamento dei dati anagrafici. L'esercente tratta i dati soltanto per rilasciare i certificati richiesti allo sportello, " +
		"per conto del Comune e secondo le sue istruzioni, come responsabile del trattamento (art. 28 del Regolamento (UE) 2016/679). " +
		"Le persone che operano per l'esercente sono autorizzate per nome (art. 29 del Regolamento; art. 2-quaterdecies del D.Lgs. 196/2003) e accedono solo con le proprie credenziali. " +
		"Le basi normative del servizio sono descritte nel documento docs/LEGAL.md di Sportello.")

	d.heading("4. Chi può ottenere quali certificati")
	if r := k.Requesters; r == nil {
		d.para("Regola: i certificati anagrafici rilasciati tramite ANPR fuori dall'ufficio anagrafe riguardano solo il richiedente e i componenti della sua famiglia anagrafica.")
		d.para(notApplied)
	} else {
		rule := "Il sistema rilascia un certificato solo se riguarda il richiedente stesso o un componente della sua famiglia anagrafica (non una convivenza)"
		if r.Widening != nil {
			rule += ", salvo l'estensione indicata sotto"
		}
		d.para(rule + ". La verifica è fatta dal sistema centrale nella stessa operazione del rilascio; un rifiuto non rivela nulla della persona cui il certificato si riferirebbe.")
		if r.Widening == nil {
			d.pairs([]Setting{{"Estensione della regola", "nessuna (impostazione predefinita)"}})
		} else {
			d.pairs([]Setting{{"Estensione della regola", r.Widening.Scope}, {"Base giuridica dell'estensione", r.Widening.Basis}})
		}
	}

	d.heading("5. Identificazione del richiedente")
	if r := k.Requesters; r == nil || len(r.Identification) == 0 {
		d.para(notApplied)
	} else {
		d.para("Il richiedente è sempre identificato; il sistema centrale verifica l'identificazione nella stessa operazione del rilascio. Mezzi ammessi:")
		for _, m := range r.Identification {
			d.para("• " + m)
		}
	}

	d.heading("6. Addetti abilitati per nome")
	if k.Clerks == nil {
		d.para(notApplied)
	} else {
		d.para("Persone abilitate dal Comune per questo esercente, ciascuna con il proprio accesso personale.")
		d.pairs(k.ClerkRules)
		d.Ln(1)
		var rows [][]string
		for _, c := range *k.Clerks {
			rows = append(rows, []string{c.Name, c.CF, c.TrainedOn.Italian(), c.EnabledUntil.Italian(), c.Status, c.Login})
		}
		if len(rows) == 0 {
			d.para("Nessun addetto è abilitato: l'esercente non può rilasciare certificati.")
		} else {
			d.table([]float64{38, 38, 23, 23, 18, 34}, []string{"Cognome e nome", "Codice fiscale", "Formazione", "Abilitato fino al", "Stato", "Accesso"}, rows, 8)
		}
	}

	d.heading("7. Dispositivi registrati")
	if len(k.Devices) == 0 {
		d.para("Nessun dispositivo registrato.")
	} else {
		var rows [][]string
		for _, dev := range k.Devices {
			rows = append(rows, []string{dev.Name, dev.KeyID, dev.EnrolledAt.In(protocol.Rome).Format("02/01/2006"), deviceStatusIT(string(dev.Status))})
		}
		d.table([]float64{50, 62, 30, 32}, []string{"Nome", "Identificativo della chiave", "Registrato il", "Stato"}, rows, 8.5)
	}

	d.control("8. Limiti e soglie di anomalia", k.Limits)
	var retention *[]Setting
	if k.Retention != nil {
		r := k.retentionSettings()
		retention = &r
	}
	d.control("9. Conservazione", retention)
	d.control("10. Registro degli accessi consultabile dal cittadino", k.AccessLog)
	d.control("11. Avvisi all'interessato", k.Notices)

	d.heading("12. Estratto del registro degli accessi dell'esercente")
	d.para(fmt.Sprintf("Periodo dal %s al %s: %s, dell'esercente e dei suoi dispositivi, nei file allegati (CSV e PDF).",
		italianDay(k.Period.From), italianDay(k.Period.To), entries(len(k.Audit))))

	d.heading("13. Allegati e impronte")
	d.para("Ogni allegato è identificato dalla sua impronta SHA-256: un file che non le corrisponde non è quello consegnato con questa convenzione.")
	var rows [][]string
	for _, f := range annexes {
		rows = append(rows, []string{f.Name, f.SHA256()})
	}
	d.table([]float64{62, 112}, []string{"File", "SHA-256"}, rows, 7.5)

	d.Ln(10)
	d.SetFont("dejavu", "", 9.5)
	w, _ := d.GetPageSize()
	half := (w - 2*d.margin) / 2
	d.CellFormat(half, 5, "Per il Comune", "", 0, "L", false, 0, "")
	d.CellFormat(half, 5, "Per l'esercente", "", 1, "L", false, 0, "")
	d.Ln(10)
	d.CellFormat(half-10, 5, "", "T", 0, "L", false, 0, "")
	d.CellFormat(10, 5, "", "", 0, "L", false, 0, "")
	d.CellFormat(half-10, 5, "", "T", 1, "L", false, 0, "")
	return d.bytes()
}

// auditPDF is the shop's extract of the audit log, one line per entry.
func (k *Kit) auditPDF() ([]byte, error) {
	o := k.Operator
	d, err := newDoc("L", "Registro degli accessi "+o.ID, k.footer("registro degli accessi "+k.Period.String()), k.Generated)
	if err != nil {
		return nil, err
	}
	d.SetFont("dejavu", "B", 12)
	d.CellFormat(0, 6, k.City.Comune, "", 1, "L", false, 0, "")
	d.title("Estratto del registro degli accessi ai dati anagrafici — " + o.DisplayName() + " (" + o.ID + ")")
	d.para(fmt.Sprintf("Periodo dal %s al %s. Prodotto da Sportello il %s. %s, dell'esercente e dei suoi dispositivi, nell'ordine del registro; "+
		"il numero è la posizione nella catena di hash del registro, che `hub audit verify` controlla.",
		italianDay(k.Period.From), italianDay(k.Period.To), k.generated(), capital(entries(len(k.Audit)))))
	if len(k.Audit) == 0 {
		d.para("Nessun accesso registrato nel periodo.")
		return d.bytes()
	}
	var rows [][]string
	for _, e := range k.Audit {
		who := k.actorLabel(e.Actor)
		if c := clerkLabel(e.Clerk); c != "" {
			who += "\naddetto " + c
		}
		rows = append(rows, []string{strconv.FormatUint(e.Seq, 10), e.Time.In(protocol.Rome).Format("02/01/2006 15:04:05"),
			who, e.Subject, e.Data, e.Channel, e.Purpose})
	}
	d.table([]float64{14, 33, 49, 36, 50, 22, 57}, []string{"N.", "Data e ora", "Chi", "Interessato", "Dati", "Canale", "Finalità"}, rows, 7.5)
	return d.bytes()
}

func entries(n int) string {
	if n == 1 {
		return "1 accesso registrato"
	}
	return strconv.Itoa(n) + " accessi registrati"
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func typeName(t certificate.Type) string {
	if s, ok := certificate.Lookup(t); ok {
		// ANPR's titles are upper case; AIRE stays an acronym.
		return strings.ReplaceAll(strings.ToLower(s.Part), " aire", " AIRE")
	}
	return string(t)
}

func statusIT(s string) string {
	switch s {
	case "applied":
		return "domanda presentata"
	case "approved":
		return "approvato"
	case "active":
		return "attivo"
	case "suspended":
		return "sospeso"
	case "revoked":
		return "revocato"
	}
	return s
}

func deviceStatusIT(s string) string {
	switch s {
	case "active":
		return "attivo"
	case "revoked":
		return "revocato"
	}
	return s
}
