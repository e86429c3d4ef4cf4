//go:build ignore

// gen writes sportello-latin.map, the single-byte encoding the certificate
// renderer uses, and the fpdf font definitions (.json) for the two subset
// DejaVu Sans files beside it. Run from this directory:
//
//	go run gen.go
//
// Why a single-byte encoding and not fpdf's UTF-8 fonts: fpdf parses and
// re-subsets a UTF-8 TrueType font for every document (about 8 ms per font
// here), which alone would break the 10 ms per certificate budget; a
// pre-built simple TrueType font costs almost nothing per document. The
// 256 slots keep ASCII and Latin-1 (all Western European letters) and
// replace rarely printed Latin-1 symbols and the C1 range with the letters
// of the largest foreign communities in Italy (Romanian, Polish, Czech,
// Croatian, Hungarian, Turkish, Albanian) and typographic punctuation.
// Anything else is printed without its diacritics (see pdf.Printable).
package main

import (
	"bufio"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-pdf/fpdf"
)

// extra lists the glyphs placed in freed slots, with their Adobe Glyph List
// names: PDF readers map a glyph name back to Unicode for text extraction.
var extra = []struct {
	r    rune
	name string
}{
	{'€', "Euro"}, {'’', "quoteright"}, {'“', "quotedblleft"}, {'”', "quotedblright"},
	{'–', "endash"}, {'—', "emdash"},
	{'ă', "abreve"}, {'Ă', "Abreve"}, {'ș', "scommaaccent"}, {'Ș', "Scommaaccent"},
	{'ț', "tcommaaccent"}, {'Ț', "Tcommaaccent"}, {'ş', "scedilla"}, {'Ş', "Scedilla"},
	{'ţ', "tcedilla"}, {'Ţ', "Tcedilla"},
	{'ą', "aogonek"}, {'Ą', "Aogonek"}, {'ć', "cacute"}, {'Ć', "Cacute"},
	{'ę', "eogonek"}, {'Ę', "Eogonek"}, {'ł', "lslash"}, {'Ł', "Lslash"},
	{'ń', "nacute"}, {'Ń', "Nacute"}, {'ś', "sacute"}, {'Ś', "Sacute"},
	{'ź', "zacute"}, {'Ź', "Zacute"}, {'ż', "zdotaccent"}, {'Ż', "Zdotaccent"},
	{'č', "ccaron"}, {'Č', "Ccaron"}, {'ě', "ecaron"}, {'Ě', "Ecaron"},
	{'ř', "rcaron"}, {'Ř', "Rcaron"}, {'š', "scaron"}, {'Š', "Scaron"},
	{'ž', "zcaron"}, {'Ž', "Zcaron"}, {'ů', "uring"}, {'Ů', "Uring"},
	{'ň', "ncaron"}, {'Ň', "Ncaron"}, {'ť', "tcaron"}, {'Ť', "Tcaron"},
	{'ď', "dcaron"}, {'Ď', "Dcaron"}, {'ő', "ohungarumlaut"}, {'Ő', "Ohungarumlaut"},
	{'ű', "uhungarumlaut"}, {'Ű', "Uhungarumlaut"}, {'đ', "dcroat"}, {'Đ', "Dcroat"},
	{'ğ', "gbreve"}, {'Ğ', "Gbreve"}, {'ı', "dotlessi"}, {'İ', "Idotaccent"},
	{'…', "ellipsis"},
}

// freed are the Latin-1 slots given up: symbols a certificate never prints.
var freed = []int{
	0xA1, 0xA2, 0xA4, 0xA5, 0xA6, 0xA8, 0xAC, 0xAD, 0xAE, 0xAF, 0xB1, 0xB2, 0xB3, 0xB4,
	0xB5, 0xB6, 0xB8, 0xB9, 0xBC, 0xBD, 0xBE, 0xBF, 0xD0, 0xD7, 0xDE, 0xF0, 0xF7, 0xFE,
}

func main() {
	ref, err := os.ReadFile(fpdfFontDir() + "/cp1252.map")
	if err != nil {
		log.Fatal(err)
	}
	var lines [256]string
	for i := range lines {
		lines[i] = fmt.Sprintf("!%02X U+%04X .notdef", i, i)
	}
	sc := bufio.NewScanner(strings.NewReader(string(ref)))
	for sc.Scan() {
		var pos int
		if _, err := fmt.Sscanf(sc.Text(), "!%x", &pos); err == nil && pos < 256 {
			lines[pos] = sc.Text()
		}
	}
	slots := []int{0x7F}
	for c := 0x80; c <= 0x9F; c++ {
		slots = append(slots, c)
	}
	slots = append(slots, freed...)
	if len(slots) != len(extra) {
		log.Fatalf("%d free slots for %d glyphs", len(slots), len(extra))
	}
	for i, e := range extra {
		// A glyph whose name equals the reference's stays out of
		// /Differences, and simple text extractors then decode the slot
		// as Latin-1: keep every moved glyph visibly different.
		if strings.HasSuffix(lines[slots[i]], " "+e.name) {
			log.Fatalf("slot %02X already holds %s in cp1252", slots[i], e.name)
		}
		lines[slots[i]] = fmt.Sprintf("!%02X U+%04X %s", slots[i], e.r, e.name)
	}
	out := strings.Join(lines[:], "\n") + "\n"
	if err := os.WriteFile("sportello-latin.map", []byte(out), 0o644); err != nil {
		log.Fatal(err)
	}
	// MakeFont reads the reference cp1252.map beside the encoding file.
	tmp, err := os.MkdirTemp("", "fontgen")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "cp1252.map"), ref, 0o644); err != nil {
		log.Fatal(err)
	}
	enc := filepath.Join(tmp, "sportello-latin.map")
	if err := os.WriteFile(enc, []byte(out), 0o644); err != nil {
		log.Fatal(err)
	}
	for _, f := range []string{"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"} {
		if err := fpdf.MakeFont(f, enc, ".", os.Stderr, true); err != nil {
			log.Fatal(err)
		}
		// MakeFont also writes the whole font compressed (.z); the renderer
		// embeds instead the subset of the glyphs each certificate shows,
		// made from the .ttf, so the .z would only be dead weight.
		if err := os.Remove(strings.TrimSuffix(f, ".ttf") + ".z"); err != nil {
			log.Fatal(err)
		}
	}
}

// fpdfFontDir is fpdf's directory of code pages, in the module cache: its
// cp1252.map is the reference that decides which slots go into the PDF
// font's /Differences.
func fpdfFontDir() string {
	if d := os.Getenv("FPDF_FONT_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.Getenv("HOME"), "go/pkg/mod/github.com/go-pdf/fpdf@v0.9.0/font")
}
