package pdf

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/sportello/sportello/assets"
)

// The renderer prints with DejaVu Sans in a single-byte encoding built for
// certificates (assets/fonts/sportello-latin.map, made by assets/fonts/gen.go):
// fpdf's UTF-8 font path re-parses and re-subsets the TrueType file for every
// document, which costs more than the whole 10 ms budget of one certificate.

type fontFiles struct {
	regular, bold struct {
		def []byte   // fpdf's definition: widths, descriptor, encoding
		ttf *ttfFont // the font, subset for each document (finish)
	}
	toByte map[rune]byte
}

var (
	fontsOnce sync.Once
	fonts     fontFiles
	fontsErr  error
)

func loadFonts() (*fontFiles, error) {
	fontsOnce.Do(func() {
		read := func(name string) []byte {
			b, err := assets.FS.ReadFile("fonts/" + name)
			if err != nil && fontsErr == nil {
				fontsErr = fmt.Errorf("the embedded font file %s is missing: %w", name, err)
			}
			return b
		}
		fonts.regular.def, fonts.bold.def = read("DejaVuSans.json"), read("DejaVuSans-Bold.json")
		regular, bold := read("DejaVuSans.ttf"), read("DejaVuSans-Bold.ttf")
		m := read("sportello-latin.map")
		if fontsErr != nil {
			return
		}
		if fonts.toByte, fontsErr = parseMap(m); fontsErr != nil {
			return
		}
		if fonts.regular.ttf, fontsErr = parseTTF(regular, fonts.toByte); fontsErr != nil {
			fontsErr = fmt.Errorf("the embedded font DejaVuSans.ttf: %w", fontsErr)
			return
		}
		if fonts.bold.ttf, fontsErr = parseTTF(bold, fonts.toByte); fontsErr != nil {
			fontsErr = fmt.Errorf("the embedded font DejaVuSans-Bold.ttf: %w", fontsErr)
		}
	})
	return &fonts, fontsErr
}

// parseMap reads fpdf's code page format: "!E8 U+00E8 egrave" per slot.
func parseMap(b []byte) (map[rune]byte, error) {
	m := make(map[rune]byte, 256)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var pos, uv int
		var name string
		if _, err := fmt.Sscanf(sc.Text(), "!%x U+%x %s", &pos, &uv, &name); err != nil {
			return nil, fmt.Errorf("the font encoding line %q is malformed: %w", sc.Text(), err)
		}
		if name == ".notdef" || pos < 0x20 || pos > 0xFF {
			continue
		}
		m[rune(uv)] = byte(pos)
	}
	if len(m) < 200 {
		return nil, fmt.Errorf("the font encoding has only %d characters", len(m))
	}
	return m, nil
}

// Printable returns s as the certificate will print it: characters the
// font encoding lacks lose their diacritics (ō → o) or, failing that,
// become "?". Verifiers compare sealed facts with the page through this
// same function, so a name the page cannot show exactly still matches.
func Printable(s string) string {
	f, err := loadFonts()
	if err != nil {
		return s
	}
	return f.printable(s)
}

func (f *fontFiles) printable(s string) string {
	ok := true
	for _, r := range s {
		if _, in := f.toByte[r]; !in {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if _, in := f.toByte[r]; in {
			b.WriteRune(r)
			continue
		}
		switch r {
		case '‘', '‚', '′':
			b.WriteByte('\'')
			continue
		case '„', '″':
			b.WriteByte('"')
			continue
		case '\t', '\n', '\r':
			b.WriteByte(' ')
			continue
		}
		wrote := false
		for _, d := range norm.NFD.String(string(r)) {
			if unicode.Is(unicode.Mn, d) {
				continue
			}
			if _, in := f.toByte[d]; in {
				b.WriteRune(d)
				wrote = true
			}
		}
		if !wrote {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// encode turns printable text into the font's bytes.
func (f *fontFiles) encode(s string) string {
	s = f.printable(s)
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = append(out, f.toByte[r])
	}
	return string(out)
}
