// Package testpage writes a one-page A4 PDF of plain text lines: the page
// `kiosk printer test` sends to office printers, and a document whose text
// tests can read back with pdftotext after it has gone through CUPS.
package testpage

import (
	"bytes"
	"fmt"

	"golang.org/x/text/encoding/charmap"
)

// PDF returns an A4 page with the lines in 12 pt Helvetica, the first in
// bold 18 pt. Text is WinAnsi (Windows-1252) encoded, which the standard
// fonts support without embedding: € and Italian accents print; characters
// outside it become '?'.
func PDF(title string, lines []string) []byte {
	var content bytes.Buffer
	fmt.Fprintf(&content, "BT /F2 18 Tf 56 780 Td (%s) Tj ET\n", pdfString(title))
	y := 740
	for _, l := range lines {
		fmt.Fprintf(&content, "BT /F1 12 Tf 56 %d Td (%s) Tj ET\n", y, pdfString(l))
		y -= 18
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// pdfString encodes s as the inside of a PDF literal string.
func pdfString(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		c, ok := charmap.Windows1252.EncodeRune(r)
		if !ok || c < 0x20 {
			c = '?'
		}
		switch c {
		case '(', ')', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c >= 0x80 {
				fmt.Fprintf(&b, "\\%03o", c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}
