// Package sheet prints a citizen's access log on A4, for the clerk to hand
// over at a counter at the citizen's request: who read their data and which
// certificates were issued about them, in the words the kiosk's screen uses.
package sheet

import (
	"bytes"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/pdffont"
	"github.com/sportello/sportello/internal/protocol"
)

type words struct {
	title, period, when, where, what, why, clerk, protocol, more, page, empty string
	kinds                                                                     map[string]string
}

var languages = map[string]words{
	"it": {title: "Registro degli accessi ai dati di %s (%s)", period: "Dal %s al %s · %d registrazioni, le più recenti per prime · stampato il %s",
		when: "Quando", where: "Dove", what: "Che cosa", why: "Perché", clerk: "operatore", protocol: "protocollo",
		more: "Sono stampate le %d registrazioni più recenti di %d: le altre si vedono alla postazione self-service.",
		page: "pagina %d di {nb}", empty: "Nessuna registrazione in questo periodo.",
		kinds: map[string]string{"read": "Consultazione", "certificate": "Certificato rilasciato", "refusal": "Richiesta rifiutata", "access_log": "Consultazione di questo registro"}},
	"en": {title: "Access log of the data of %s (%s)", period: "From %s to %s · %d entries, newest first · printed on %s",
		when: "When", where: "Where", what: "What", why: "Why", clerk: "clerk", protocol: "protocol",
		more: "The %d most recent of %d entries are printed: the others can be seen at the self-service kiosk.",
		page: "page %d of {nb}", empty: "Nothing recorded in this period.",
		kinds: map[string]string{"read": "Look-up", "certificate": "Certificate issued", "refusal": "Request refused", "access_log": "Look at this log"}},
}

// Render lays out l in lang ("it" or "en"; Italian otherwise), dated at.
func Render(l *api.AccessLog, lang string, at time.Time) ([]byte, error) {
	w, ok := languages[lang]
	if !ok {
		w = languages["it"]
	}
	f, err := pdffont.NewA4("P")
	if err != nil {
		return nil, err
	}
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.SetCatalogSort(true)
	f.SetMargins(15, 15, 15)
	f.SetAutoPageBreak(true, 15)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-11)
		f.SetFont("dejavu", "", 7)
		f.CellFormat(0, 4, fmt.Sprintf(w.page, f.PageNo()), "", 0, "C", false, 0, "")
	})
	f.AddPage()
	f.SetFont("dejavu", "B", 13)
	f.MultiCell(0, 6, fmt.Sprintf(w.title, l.Name, l.CF), "", "L", false)
	f.SetFont("dejavu", "", 8.5)
	f.MultiCell(0, 5, fmt.Sprintf(w.period, day(l.From), day(l.To), l.Total, at.In(protocol.Rome).Format("02/01/2006 15:04")), "", "L", false)
	f.Ln(2)
	if len(l.Lines) == 0 {
		f.MultiCell(0, 5, w.empty, "", "L", false)
	}
	cols := []float64{28, 52, 100}
	f.SetFont("dejavu", "B", 8.5)
	for i, h := range []string{w.when, w.where, w.what + " · " + w.why} {
		f.CellFormat(cols[i], 6, h, "B", 0, "L", false, 0, "")
	}
	f.Ln(-1)
	for _, ln := range l.Lines {
		where := ln.Place
		if ln.Clerk != "" {
			where += "\n" + w.clerk + ": " + ln.Clerk
		}
		what := w.kinds[ln.Kind]
		if what == "" {
			what = ln.Kind
		}
		what += ": " + ln.What
		if ln.Reference != "" {
			what += " (" + w.protocol + " " + ln.Reference + ")"
		}
		what += "\n" + w.why + ": " + ln.Why
		// Row height: the tallest of the wrapped cells.
		f.SetFont("dejavu", "", 8)
		h := 0.0
		for i, s := range []string{"", where, what} {
			if i == 0 {
				continue
			}
			if n := float64(len(f.SplitText(s, cols[i]-2))) * 4; n > h {
				h = n
			}
		}
		_, pageH := f.GetPageSize()
		if f.GetY()+h > pageH-15 {
			f.AddPage()
		}
		x, y := f.GetXY()
		f.MultiCell(cols[0], 4, ln.Time.In(protocol.Rome).Format("02/01/2006\n15:04"), "", "L", false)
		f.SetXY(x+cols[0], y)
		f.MultiCell(cols[1], 4, where, "", "L", false)
		f.SetXY(x+cols[0]+cols[1], y)
		f.MultiCell(cols[2], 4, what, "", "L", false)
		f.SetXY(x, y+h+1.5)
		f.Line(x, f.GetY()-0.75, x+cols[0]+cols[1]+cols[2], f.GetY()-0.75)
	}
	if l.Total > len(l.Lines) {
		f.Ln(2)
		f.SetFont("dejavu", "", 8)
		f.MultiCell(0, 4, fmt.Sprintf(w.more, len(l.Lines), l.Total), "", "L", false)
	}
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		return nil, fmt.Errorf("cannot render the access log: %w", err)
	}
	return b.Bytes(), nil
}

// day writes a YYYY-MM-DD date as Italian documents do.
func day(s string) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	return t.Format("02/01/2006")
}
