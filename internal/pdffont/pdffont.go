// Package pdffont starts the hub's printed documents (access-log sheets,
// convention kits, settlements) in the embedded DejaVu Sans, which has every
// letter of Italian names and the typographic signs the texts use. The
// certificate renderer does not use it: it needs a faster single-byte
// encoding of the same font (internal/certificate/pdf).
package pdffont

import (
	"fmt"

	"github.com/go-pdf/fpdf"

	"github.com/sportello/sportello/assets"
)

// Family is the font family name the documents are set in.
const Family = "dejavu"

// NewA4 returns an empty A4 document measured in millimetres, in
// orientation ("P" or "L"), created by Sportello, with DejaVu Sans regular
// and bold registered as Family. Callers add pages, margins and dates.
func NewA4(orientation string) (*fpdf.Fpdf, error) {
	regular, err := assets.FS.ReadFile("fonts/DejaVuSans.ttf")
	if err != nil {
		return nil, fmt.Errorf("the embedded font is missing: %w", err)
	}
	bold, err := assets.FS.ReadFile("fonts/DejaVuSans-Bold.ttf")
	if err != nil {
		return nil, fmt.Errorf("the embedded font is missing: %w", err)
	}
	f := fpdf.New(orientation, "mm", "A4", "")
	f.SetCreator("Sportello", true)
	f.AddUTF8FontFromBytes(Family, "", regular)
	f.AddUTF8FontFromBytes(Family, "B", bold)
	return f, nil
}
