package receipt

import (
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/printer/escpos"
)

// Filing is the receipt of a demographic request filed with the Comune
// (issue 17): the protocol number it was registered under, printed large
// and in a QR the office scans, the time of registration and the start of
// the SHA-256 of what was filed, which the protocol entry carries, so the
// citizen holds proof of what was filed and when.
type Filing struct {
	Shop       string
	Address    string
	OperatorID string
	Title      string    // the kind of request: "Cambio di indirizzo nel Comune"
	Protocol   string    // the protocol number
	Filed      time.Time // its registration time
	SHA256     string    // hex, of the canonical filing
	Status     string    // in the receipt's language: "protocollata, in esame"
	Lang       Lang
}

// Validate reports the first thing that would make a misleading receipt.
func (f Filing) Validate() error {
	switch {
	case f.Lang != Italian && f.Lang != English:
		return fmt.Errorf("filing receipt language %q is neither it nor en", f.Lang)
	case strings.TrimSpace(f.Shop) == "":
		return fmt.Errorf("filing receipt has no shop name")
	case strings.TrimSpace(f.Protocol) == "" || f.Filed.IsZero():
		return fmt.Errorf("filing receipt has no protocol number or time: a request is given a receipt only once registered")
	case len(f.SHA256) < 16:
		return fmt.Errorf("filing receipt has no hash of what was filed")
	}
	return nil
}

var filingTexts = map[Lang]struct{ title, protocol, filed, hash, status, keep string }{
	Italian: {"RICEVUTA DI PRESENTAZIONE", "Protocollo n.", "Registrata il", "Impronta SHA-256", "Stato",
		"Conservi questa ricevuta: con il numero di protocollo può seguire la pratica a una postazione self-service o presso l'ufficio anagrafe."},
	English: {"FILING RECEIPT", "Protocol no.", "Registered on", "SHA-256 fingerprint", "Status",
		"Keep this receipt: with the protocol number you can follow the request at a self-service kiosk or at the registry office."},
}

// EncodeFiling renders a filing receipt as ESC/POS for a printer profile.
func EncodeFiling(f Filing, p escpos.Profile) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	t, ft := texts[f.Lang], filingTexts[f.Lang]
	cols, cp := p.Paper.Columns, p.CodePage
	e := escpos.NewEncoder(p)
	header(e, t, issuer{shop: f.Shop, address: f.Address}, f.OperatorID, f.Filed)
	e.Align(escpos.Center).Bold(true).Line(ft.title).Bold(false)
	for _, l := range wrap(f.Title, cols, cp) {
		e.Line(l)
	}
	e.Align(escpos.Left).Line(strings.Repeat("-", cols))
	e.Align(escpos.Center).Line(ft.protocol)
	e.Bold(true).Size(1, 2).Line(f.Protocol).Size(1, 1).Bold(false)
	e.QR(f.Protocol, qrModule(p), escpos.ECCMedium)
	e.Align(escpos.Left)
	e.Line(columns(ft.filed, f.Filed.In(rome).Format("02/01/2006 15:04"), cols, cp))
	if f.Status != "" {
		for _, l := range wrap(ft.status+": "+f.Status, cols, cp) {
			e.Line(l)
		}
	}
	e.Line(ft.hash + ":")
	for _, l := range wrap(f.SHA256, cols, cp) {
		e.Line(l)
	}
	e.Line(strings.Repeat("-", cols))
	for _, l := range wrap(ft.keep, cols, cp) {
		e.Line(l)
	}
	e.Feed(1)
	footer(e, t)
	return e.Bytes()
}
