// Package pdf lays out a certificate.Document on an A4 page: the city's
// header, the certifying text, fees, place and date of issue, protocol
// number, notices and the QR seal. It decides nothing about content; the
// Document already holds every word. Output is byte-for-byte deterministic
// for a given Document and Seal, so golden tests can compare it.
package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"rsc.io/qr/coding"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

// Seal is what the hub's issuing key produced for the Document.
type Seal struct {
	// Token is the compact signed token; the renderer stores it in the
	// PDF's Keywords (after TokenKeyword) so a verifier reads it back
	// without decoding the QR image.
	Token string
	// QR is the QR code's content: the verification URL carrying Token.
	QR string
	// Copy, when set, renders a copy (issue 15: a self-service reprint is
	// one copy, never a second original): every page carries Copy as a
	// band at the top and across the page, no token goes in the Keywords,
	// and the text beside the QR says the copy has no seal. The caller
	// gives a QR without a token (the bare verification URL) and does not
	// sign the PDF, so nothing in it is a seal a verifier would accept.
	Copy string
}

// CopyMark is the copy's mark (Seal.Copy); copyWord is printed across
// every page of a copy, the whole mark in the band at its top.
const (
	CopyMark = "COPIA — non valida come originale"
	copyWord = "COPIA"
)

// TokenKeyword prefixes the seal token in the PDF's Keywords entry.
const TokenKeyword = "sportello-seal:"

// Layout, in millimetres on A4.
const (
	pageW, pageH = 210.0, 297.0
	margin       = 20.0
	contentW     = pageW - 2*margin
	labelW       = 52.0
	qrSize       = 38.0
	footerSpace  = 12.0 // below the last line: page numbers
)

// Render lays out doc with its seal and returns the PDF.
func Render(doc *certificate.Document, s Seal) ([]byte, error) {
	if doc == nil {
		return nil, errors.New("there is no certificate document to render")
	}
	if doc.ID == "" || doc.Issued.IsZero() {
		return nil, errors.New("the certificate document has no id or no issue time, both are printed on it")
	}
	if s.QR == "" {
		return nil, errors.New("the certificate has no QR seal content: it cannot be verified without one")
	}
	fo, err := loadFonts()
	if err != nil {
		return nil, err
	}
	// rsc.io/qr rather than go-qrcode here: issuance is on the hub's hot
	// path and go-qrcode took half of a certificate's CPU time (7 ms against
	// 0.2 ms for the same symbol).
	code, err := encodeQR(s.QR)
	if err != nil {
		return nil, fmt.Errorf("the QR seal cannot be encoded: %w", err)
	}

	r := &renderer{f: fpdf.New("P", "mm", "A4", ""), fo: fo, doc: doc, copy: s.Copy}
	f := r.f
	issued := doc.Issued.In(protocol.Rome)
	f.SetCatalogSort(true)
	// Uncompressed page streams: fpdf allocates a new zlib writer (about a
	// megabyte, then zeroed and collected) for every page, which cost 40 %
	// of a rendering; finish compresses them with a reused one.
	f.SetCompression(false)
	f.SetCreationDate(issued)
	f.SetModificationDate(issued)
	f.SetProducer("Sportello", false)
	f.SetCreator("Sportello", false)
	f.SetTitle(doc.Title, true)
	f.SetAuthor(doc.Issuer.Comune, true)
	f.SetSubject(fmt.Sprintf("Certificato %s, protocollo %s", doc.ID, doc.Protocol), true)
	if s.Token != "" && s.Copy == "" {
		f.SetKeywords(TokenKeyword+s.Token, false)
	}
	if s.Copy != "" {
		f.SetSubject(fmt.Sprintf("%s: certificato %s, protocollo %s", s.Copy, doc.ID, doc.Protocol), true)
	}
	// The fonts' files are markers here: finish embeds in their place the
	// subsets of the glyphs the pages show.
	f.AddFontFromBytes("dejavu", "", fo.regular.def, fontMarker("regular"))
	f.AddFontFromBytes("dejavu", "B", fo.bold.def, fontMarker("bold"))
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin+footerSpace)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(r.footer)
	f.AddPage()

	r.header()
	r.title()
	r.subject()
	for _, sec := range doc.Sections {
		r.section(sec)
	}
	r.purposeAndFees()
	r.keepClosingTogether()
	r.placeAndDate(issued)
	r.notices()
	r.seal(bitmap(code), issued)

	var buf bytes.Buffer
	buf.Grow(32 << 10) // growing from empty copied the file several times
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("the certificate PDF could not be written: %w", err)
	}
	return finish(buf.Bytes(), map[string]*ttfFont{"regular": fo.regular.ttf, "bold": fo.bold.ttf})
}

type renderer struct {
	f    *fpdf.Fpdf
	fo   *fontFiles
	doc  *certificate.Document
	copy string // Seal.Copy
}

func (r *renderer) t(s string) string { return r.fo.encode(s) }

func (r *renderer) font(bold bool, size float64) {
	style := ""
	if bold {
		style = "B"
	}
	r.f.SetFont("dejavu", style, size)
}

func (r *renderer) gray(level int) { r.f.SetTextColor(level, level, level) }

// header prints the emblem and the comune's name and office.
func (r *renderer) header() {
	f := r.f
	emblem(f, margin, 14)
	x := margin + 22
	f.SetXY(x, 15)
	r.font(true, 16)
	f.CellFormat(contentW-22, 7, r.t(r.doc.Issuer.Comune), "", 2, "L", false, 0, "")
	f.SetX(x)
	r.font(false, 10)
	f.CellFormat(contentW-22, 5, r.t(r.doc.Issuer.Office), "", 2, "L", false, 0, "")
	if r.doc.Issuer.Address != "" {
		f.SetX(x)
		r.font(false, 8.5)
		r.gray(90)
		f.CellFormat(contentW-22, 4.5, r.t(r.doc.Issuer.Address), "", 2, "L", false, 0, "")
		r.gray(0)
	}
	f.SetDrawColor(30, 60, 120)
	f.SetLineWidth(0.6)
	f.Line(margin, 42, pageW-margin, 42)
	f.SetLineWidth(0.2)
	f.SetDrawColor(0, 0, 0)
	f.SetY(48)
}

func (r *renderer) title() {
	f := r.f
	r.font(true, 13)
	f.MultiCell(contentW, 6.5, r.t(r.doc.Title), "", "C", false)
	f.Ln(4)
	if r.doc.Opening != "" {
		r.font(false, 10)
		f.MultiCell(contentW, 5, r.t(r.doc.Opening), "", "J", false)
		f.Ln(3)
	}
}

// subject prints the certified person the way registry offices do: name in
// capitals, then birth and codice fiscale.
func (r *renderer) subject() {
	f := r.f
	s := r.doc.Subject
	r.font(true, 12)
	f.MultiCell(contentW, 6, r.t(s.Name), "", "C", false)
	r.font(false, 10)
	born := "nato"
	if s.Sex == "F" {
		born = "nata"
	}
	var parts []string
	if s.BirthPlace != "" {
		prep := s.BirthPrep
		if prep == "" {
			prep = "a"
		}
		parts = append(parts, born+" "+prep+" "+s.BirthPlace)
	}
	if s.BirthDate != "" {
		if len(parts) == 0 {
			parts = append(parts, born)
		}
		parts = append(parts, certificate.DatedArticle("il", s.BirthDate))
	}
	if len(parts) > 0 {
		f.MultiCell(contentW, 5, r.t(strings.Join(parts, " ")), "", "C", false)
	}
	if s.CF != "" {
		f.MultiCell(contentW, 5, r.t("Codice fiscale "+s.CF), "", "C", false)
	}
	f.Ln(4)
}

func (r *renderer) section(sec certificate.Section) {
	f := r.f
	if sec.Heading != "" {
		r.font(true, 10.5)
		f.SetFillColor(232, 237, 245)
		f.CellFormat(contentW, 6.5, r.t(sec.Heading), "", 1, "L", true, 0, "")
		f.Ln(1.5)
	}
	for _, l := range sec.Lines {
		r.line(l.Label, l.Value)
	}
	if sec.Table != nil {
		r.table(sec.Table)
	}
	f.Ln(3)
}

// line prints a label in gray and its value beside it, wrapping the value.
func (r *renderer) line(label, value string) {
	f := r.f
	r.font(false, 9)
	valueLines := r.split(value, contentW-labelW, false, 10)
	if f.GetY()+5*float64(len(valueLines)) > pageH-margin-footerSpace {
		f.AddPage()
	}
	y := f.GetY()
	r.gray(80)
	f.SetXY(margin, y)
	f.MultiCell(labelW-2, 5, r.t(label), "", "L", false)
	yl := f.GetY()
	r.gray(0)
	r.font(false, 10)
	f.SetXY(margin+labelW, y)
	f.MultiCell(contentW-labelW, 5, r.t(value), "", "L", false)
	if yl > f.GetY() {
		f.SetY(yl)
	}
	f.Ln(0.8)
}

func (r *renderer) split(s string, w float64, bold bool, size float64) [][]byte {
	r.font(bold, size)
	lines := r.f.SplitLines([]byte(r.t(s)), w-2*r.f.GetCellMargin())
	if len(lines) == 0 {
		lines = [][]byte{nil}
	}
	return lines
}

// table draws a bordered table whose columns share the width in proportion
// to their longest cell, wrapping cells that are still too wide.
func (r *renderer) table(t *certificate.Table) {
	f := r.f
	cols := len(t.Header)
	for _, row := range t.Rows {
		cols = max(cols, len(row))
	}
	if cols == 0 {
		return
	}
	const size, lh = 8.5, 4.2
	// want is each column's longest cell; least is its longest word, the
	// width below which a word — a codice fiscale, a date — would be broken
	// in the middle, which makes it unreadable and uncheckable.
	want := make([]float64, cols)
	least := make([]float64, cols)
	measure := func(row []string, bold bool) {
		r.font(bold, size)
		for i, c := range row {
			want[i] = max(want[i], min(f.GetStringWidth(r.t(c))+3, contentW*0.45))
			for _, w := range strings.Fields(c) {
				// 3 mm of cell margins as for want, and 1.5 mm more:
				// SplitLines rounds the width down and breaks a word that
				// only just fits.
				least[i] = max(least[i], f.GetStringWidth(r.t(w))+4.5)
			}
		}
	}
	measure(t.Header, true)
	for _, row := range t.Rows {
		measure(row, false)
	}
	var sum, floor, spare float64
	for i, w := range want {
		want[i] = max(w, least[i], 8)
		sum += want[i]
		floor += least[i]
		spare += want[i] - least[i]
	}
	widths := make([]float64, cols)
	for i, w := range want {
		switch {
		case sum <= contentW || floor >= contentW || spare == 0:
			// Room for every cell, or not even for every word: share the
			// width in proportion to the cells.
			widths[i] = w * contentW / sum
		default:
			// Every column gets its longest word; the rest of the width
			// goes to the columns whose cells would wrap anyway.
			widths[i] = least[i] + (w-least[i])*(contentW-floor)/spare
		}
	}
	drawRow := func(row []string, bold, fill bool) {
		height := lh
		cells := make([][][]byte, cols)
		for i := range cols {
			c := ""
			if i < len(row) {
				c = row[i]
			}
			cells[i] = r.split(c, widths[i], bold, size)
			height = max(height, lh*float64(len(cells[i])))
		}
		height += 1.6
		if f.GetY()+height > pageH-margin-footerSpace {
			f.AddPage()
		}
		x, y := margin, f.GetY()
		r.font(bold, size)
		if fill {
			f.SetFillColor(232, 237, 245)
		}
		for i := range cols {
			style := "D"
			if fill {
				style = "FD"
			}
			f.Rect(x, y, widths[i], height, style)
			for j, ln := range cells[i] {
				f.SetXY(x, y+0.8+float64(j)*lh)
				f.CellFormat(widths[i], lh, string(ln), "", 0, "L", false, 0, "")
			}
			x += widths[i]
		}
		f.SetXY(margin, y+height)
	}
	f.SetDrawColor(150, 150, 150)
	if len(t.Header) > 0 {
		drawRow(t.Header, true, true)
	}
	for _, row := range t.Rows {
		drawRow(row, false, false)
	}
	f.SetDrawColor(0, 0, 0)
}

func (r *renderer) purposeAndFees() {
	f := r.f
	d := r.doc
	if d.Purpose != "" {
		r.font(false, 9.5)
		f.MultiCell(contentW, 4.8, r.t(d.Purpose), "", "J", false)
		f.Ln(2)
	}
	if len(d.Fees) == 0 {
		return
	}
	var total int64
	amountW := 28.0
	for _, fl := range d.Fees {
		total += fl.Cents
		r.font(false, 9.5)
		text := fl.Label
		if fl.Note != "" {
			text += " (" + fl.Note + ")"
		}
		y := f.GetY()
		f.MultiCell(contentW-amountW, 4.8, r.t(text), "", "L", false)
		y2 := f.GetY()
		f.SetXY(margin+contentW-amountW, y)
		f.CellFormat(amountW, 4.8, r.t(Euro(fl.Cents)), "", 0, "R", false, 0, "")
		f.SetY(y2)
	}
	r.font(true, 9.5)
	f.CellFormat(contentW-amountW, 5.5, r.t("Totale"), "T", 0, "L", false, 0, "")
	f.CellFormat(amountW, 5.5, r.t(Euro(total)), "T", 1, "R", false, 0, "")
	f.Ln(3)
}

// closingHeight is the height of the closing block: place, date and
// signatory (signatoryHeight), the notices, and the QR seal.
func (r *renderer) closingHeight() float64 {
	h := r.signatoryHeight() + 2
	for _, n := range r.doc.Notices {
		h += 4.2*float64(len(r.split(n, contentW, true, 8.5))) + 1
	}
	return h + qrSize + 2
}

// keepClosingTogether starts a new page when the closing block does not fit
// on this one, so the QR seal never stands alone on a last page, cut off
// from the signature and the notices it seals.
func (r *renderer) keepClosingTogether() {
	if r.f.GetY()+r.closingHeight() > pageH-margin-footerSpace {
		r.f.AddPage()
	}
}

// Signatory block sizes: the role and name in 10 pt on 5 mm lines, the
// delegation and the seal sentence in 7.5 pt on 3.6 mm lines, in the right
// half of the page, with 4 mm below.
const (
	signatoryW       = contentW / 2
	signatoryLine    = 5.0
	signatorySmall   = 3.6
	signatoryAfter   = 4.0
	signatoryMinimum = 18.0 // what the block took before it named the officer
)

// signatoryHeight is the height placeAndDate takes for the document's
// signatory, worked out with the same line breaks it will print.
func (r *renderer) signatoryHeight() float64 {
	s := r.doc.Issuer.Signatory()
	h := signatoryLine * float64(len(r.split(s.Role, signatoryW, false, 10)))
	if s.Name != "" {
		h += signatoryLine * float64(len(r.split(s.Name, signatoryW, true, 10)))
	}
	if s.Delegation != "" {
		h += signatorySmall * float64(len(r.split(s.Delegation, signatoryW, false, 7.5)))
	}
	h += 1 + signatorySmall*float64(len(r.split(s.SealRule, signatoryW, false, 7.5)))
	return max(h+signatoryAfter, signatoryMinimum)
}

// placeAndDate prints the place and date of issue on the left and, on the
// right, the signatory: role, the delegated officer's name and delegation,
// and the sentence saying the comune's electronic seal replaces the
// handwritten signature (certificate.Issuer.Signatory words all of it).
func (r *renderer) placeAndDate(issued time.Time) {
	f := r.f
	d := r.doc
	sig := d.Issuer.Signatory()
	height := r.signatoryHeight()
	r.font(false, 10)
	place := d.Issuer.Place
	if place == "" {
		place = strings.TrimPrefix(d.Issuer.Comune, "Comune di ")
	}
	if f.GetY()+height > pageH-margin-footerSpace {
		f.AddPage()
	}
	y := f.GetY()
	r.font(false, 10)
	f.CellFormat(contentW/2, signatoryLine, r.t(place+", "+issued.Format("02/01/2006")), "", 0, "L", false, 0, "")
	right := margin + contentW/2
	f.SetXY(right, y)
	f.MultiCell(signatoryW, signatoryLine, r.t(sig.Role), "", "C", false)
	if sig.Name != "" {
		f.SetX(right)
		r.font(true, 10)
		f.MultiCell(signatoryW, signatoryLine, r.t(sig.Name), "", "C", false)
	}
	r.font(false, 7.5)
	r.gray(90)
	if sig.Delegation != "" {
		f.SetX(right)
		f.MultiCell(signatoryW, signatorySmall, r.t(sig.Delegation), "", "C", false)
	}
	f.Ln(1)
	f.SetX(right)
	f.MultiCell(signatoryW, signatorySmall, r.t(sig.SealRule), "", "C", false)
	r.gray(0)
	f.SetY(max(f.GetY()+signatoryAfter, y+height))
}

func (r *renderer) notices() {
	f := r.f
	for _, n := range r.doc.Notices {
		r.font(true, 8.5)
		f.MultiCell(contentW, 4.2, r.t(n), "", "J", false)
		f.Ln(1)
	}
	f.Ln(2)
}

// seal draws the QR code and, beside it, the certificate's id, protocol
// number and how to check the paper.
func (r *renderer) seal(bits [][]bool, issued time.Time) {
	f := r.f
	d := r.doc
	if f.GetY()+qrSize+2 > pageH-margin-footerSpace {
		f.AddPage()
	}
	y := max(f.GetY(), pageH-margin-footerSpace-qrSize-2)
	drawQR(f, bits, margin, y, qrSize)
	x := margin + qrSize + 6
	w := contentW - qrSize - 6
	f.SetXY(x, y)
	r.font(true, 9)
	if r.copy != "" {
		f.MultiCell(w, 4.6, r.t("Copia del certificato n. "+d.ID), "", "L", false)
		f.SetX(x)
		r.font(false, 9)
		f.MultiCell(w, 4.6, r.t("Protocollo n. "+d.Protocol+" "+certificate.DatedArticle("del", issued.Format("02/01/2006 15:04"))), "", "L", false)
		f.Ln(1.5)
		f.SetX(x)
		r.font(true, 8)
		f.MultiCell(w, 3.9, r.t("Questa copia non porta il sigillo elettronico del Comune e non vale come originale. "+
			"Il codice QR apre la pagina pubblica che dice se l'originale è valido: "+d.VerifyURL+"."), "", "L", false)
		return
	}
	f.MultiCell(w, 4.6, r.t("Certificato n. "+d.ID), "", "L", false)
	f.SetX(x)
	r.font(false, 9)
	f.MultiCell(w, 4.6, r.t("Protocollo n. "+d.Protocol+" "+certificate.DatedArticle("del", issued.Format("02/01/2006 15:04"))), "", "L", false)
	f.Ln(1.5)
	f.SetX(x)
	r.font(false, 8)
	r.gray(60)
	url := d.VerifyURL
	if url == "" {
		url = "il sito del Comune"
	}
	f.MultiCell(w, 3.9, r.t("Verifica: inquadra il codice QR con il telefono oppure apri "+url+
		". Il codice contiene, firmati dal Comune, i dati essenziali del certificato: "+
		"confrontali con quelli stampati. Il file PDF porta inoltre il sigillo elettronico del Comune."), "", "L", false)
	r.gray(0)
}

func (r *renderer) footer() {
	f := r.f
	if r.copy != "" {
		r.copyMark()
	}
	f.SetY(pageH - margin + 4)
	r.font(false, 7.5)
	r.gray(110)
	f.CellFormat(contentW/2, 4, r.t(r.doc.Issuer.Comune+" — certificato "+r.doc.ID), "", 0, "L", false, 0, "")
	f.CellFormat(contentW/2, 4, r.t(fmt.Sprintf("pagina %d di {nb}", f.PageNo())), "", 0, "R", false, 0, "")
	r.gray(0)
}

// copyMark stamps the page as a copy: a red band at the top, above the
// header, and the mark in large letters across the page, translucent so
// the text under it stays readable and a photocopy still shows it.
func (r *renderer) copyMark() {
	f := r.f
	x, y := f.GetXY()
	f.SetAutoPageBreak(false, 0)
	f.SetFillColor(180, 20, 20)
	f.Rect(0, 0, pageW, 9, "F")
	f.SetTextColor(255, 255, 255)
	r.font(true, 10)
	f.SetXY(0, 1.5)
	f.CellFormat(pageW, 6, r.t(r.copy), "", 0, "C", false, 0, "")
	f.SetAlpha(0.22, "Normal")
	f.SetTextColor(180, 20, 20)
	r.font(true, 110)
	f.TransformBegin()
	f.TransformRotate(50, pageW/2, pageH/2-20)
	// "COPIA" alone across the body, above the QR code, which stays clear
	// (a negative x would count from the right of the page).
	f.SetXY(0, pageH/2-20-20)
	f.CellFormat(pageW, 40, r.t(copyWord), "", 0, "C", false, 0, "")
	f.TransformEnd()
	f.SetAlpha(1, "Normal")
	f.SetTextColor(0, 0, 0)
	f.SetFillColor(255, 255, 255)
	f.SetAutoPageBreak(true, margin+footerSpace)
	f.SetXY(x, y)
}

// drawQR paints dark modules as filled rectangles, vector shapes that stay
// sharp at any printer resolution. It writes the page operators itself: a
// transformation makes one module one unit, so each rectangle is four small
// integers, and runs repeated on the next rows merge into one taller
// rectangle. Drawn through fpdf's Rect, the thousand-odd rectangles of a
// seal cost more CPU, in float formatting and then in compressing the longer
// page stream, than the rest of the page.
func drawQR(f *fpdf.Fpdf, bits [][]bool, x, y, size float64) {
	n := len(bits)
	if n == 0 {
		return
	}
	type rect struct{ c, r, w, h uint8 } // a QR code has at most 177 modules a side
	rects := make([]rect, 0, n*n/4)
	open := map[[2]int]int{} // column and width of a run → its rectangle, for runs reaching the row above
	next := map[[2]int]int{}
	for row := range n {
		clear(next)
		for col := 0; col < n; {
			if !bits[row][col] {
				col++
				continue
			}
			start := col
			for col < n && bits[row][col] {
				col++
			}
			key := [2]int{start, col - start}
			if i, ok := open[key]; ok {
				rects[i].h++
				next[key] = i
				continue
			}
			next[key] = len(rects)
			rects = append(rects, rect{uint8(start), uint8(row), uint8(col - start), 1})
		}
		open, next = next, open
	}
	k := 72 / 25.4 // points per millimetre, the unit of fpdf.New("P", "mm", …)
	m := size / float64(n) * k
	f.SetFillColor(0, 0, 0)
	b := make([]byte, 0, 64+len(rects)*14)
	b = append(b, "q "...)
	b = strconv.AppendFloat(b, m, 'f', 4, 64)
	b = append(b, " 0 0 "...)
	b = strconv.AppendFloat(b, -m, 'f', 4, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, x*k, 'f', 2, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, (pageH-y)*k, 'f', 2, 64)
	b = append(b, " cm\n"...)
	for _, r := range rects {
		b = strconv.AppendInt(b, int64(r.c), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.r), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.w), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.h), 10)
		b = append(b, " re\n"...)
	}
	b = append(b, "f Q"...)
	f.RawWriteStr(string(b))
}

// emblem draws a plain civic shield under a mural crown — the crown with
// towers marks a comune in Italian heraldry — in vector shapes, so no
// image file (and no third-party artwork) is needed.
func emblem(f *fpdf.Fpdf, x, y float64) {
	blue := [3]int{30, 60, 120}
	f.SetDrawColor(blue[0], blue[1], blue[2])
	f.SetFillColor(blue[0], blue[1], blue[2])
	f.SetLineWidth(0.4)
	// crown: a wall with five merlons
	f.Rect(x+2, y+3, 14, 2.2, "F")
	for i := range 5 {
		f.Rect(x+2+float64(i)*3.1, y+1, 1.6, 2.2, "F")
	}
	// shield
	sy := y + 6
	pts := []fpdf.PointType{{X: x + 1, Y: sy}, {X: x + 17, Y: sy}, {X: x + 17, Y: sy + 10}}
	f.SetFillColor(255, 255, 255)
	f.MoveTo(x+1, sy)
	f.LineTo(pts[1].X, pts[1].Y)
	f.LineTo(pts[2].X, pts[2].Y)
	f.CurveBezierCubicTo(x+17, sy+14, x+12, sy+16, x+9, sy+17)
	f.CurveBezierCubicTo(x+6, sy+16, x+1, sy+14, x+1, sy+10)
	f.ClosePath()
	f.DrawPath("FD")
	// a cross, the commonest charge of Italian civic arms
	f.SetFillColor(190, 30, 45)
	f.Rect(x+7.6, sy+1.5, 2.8, 13.5, "F")
	f.Rect(x+2.5, sy+5.2, 13, 2.8, "F")
	f.SetLineWidth(0.2)
	f.SetDrawColor(0, 0, 0)
	f.SetFillColor(255, 255, 255)
}

// bitmap turns the symbol into rows of dark modules, without the quiet zone
// (the layout leaves white space around it).
func bitmap(c *coding.Code) [][]bool {
	rows := make([][]bool, c.Size)
	for y := range rows {
		rows[y] = make([]bool, c.Size)
		for x := range rows[y] {
			rows[y][x] = c.Black(x, y)
		}
	}
	return rows
}
