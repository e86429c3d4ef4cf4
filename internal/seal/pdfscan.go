package seal

import (
	"errors"
	"fmt"
	"io"

	"github.com/digitorus/pdf"
)

// maxContentBytes bounds a decoded page content or ToUnicode stream. A
// hub certificate's page content is a few tens of kilobytes; the bound
// keeps a compressed stream that inflates to gigabytes from being read.
const maxContentBytes = 4 << 20

// The PDF reader's content lexer (github.com/digitorus/pdf lex.go) reads
// past the end of a stream as an endless run of newlines: a literal
// string whose ')' is missing grows without bound (readLiteralString),
// and a hex string whose '>' is missing spins for ever (readHexString).
// One changed byte of a certificate is enough, and a verifier is fed
// files from anyone, so every stream the reader will lex is checked here
// first.

// Bounds of the page tree walk: a hub certificate has a flat tree of a
// few pages.
const (
	maxTreeDepth = 32
	maxPageNodes = 1000
)

// pages lists the document's pages by walking the page tree, bounded:
// the reader's Page(i) follows a Kids entry that points back up the tree
// for ever (page.go, Reader.Page), and NumPage trusts the file's Count.
func pages(rdr *pdf.Reader) ([]pdf.Page, error) {
	var out []pdf.Page
	nodes := 0
	var walk func(v pdf.Value, depth int) error
	walk = func(v pdf.Value, depth int) error {
		if nodes++; nodes > maxPageNodes || depth > maxTreeDepth {
			return errors.New("the page tree is too large or loops")
		}
		switch v.Key("Type").Name() {
		case "Page":
			out = append(out, pdf.Page{V: v})
			return nil
		case "Pages":
			kids := v.Key("Kids")
			for i := 0; i < kids.Len(); i++ {
				if err := walk(kids.Index(i), depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		return errors.New("the page tree holds something other than pages")
	}
	if err := walk(rdr.Trailer().Key("Root").Key("Pages"), 0); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("the document has no pages")
	}
	return out, nil
}

var errUnterminated = errors.New("a string in the page content is not terminated")

// checkPageStreams refuses page i when a stream its text extraction lexes
// — the page content and its fonts' ToUnicode maps — is too large or ends
// inside a string. Like the reader, it may panic on a malformed file; the
// caller recovers.
func checkPageStreams(p pdf.Page) error {
	// The reader looks up Resources through the Parent chain until one
	// has them (page.go findInherited); a Parent pointing back down the
	// tree would never end that walk.
	n := 0
	for v := p.V; !v.IsNull(); v = v.Key("Parent") {
		if n++; n > maxTreeDepth {
			return errors.New("the page's chain of parents does not end")
		}
	}
	c := p.V.Key("Contents")
	if c.Kind() != pdf.Stream {
		return errors.New("the page content is not a single stream")
	}
	if err := checkStream(c); err != nil {
		return err
	}
	for _, name := range p.Fonts() {
		if u := p.Font(name).V.Key("ToUnicode"); u.Kind() == pdf.Stream {
			if err := checkStream(u); err != nil {
				return fmt.Errorf("font %s: %w", name, err)
			}
		}
	}
	return nil
}

func checkStream(v pdf.Value) error {
	rc := v.Reader()
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxContentBytes+1))
	if err != nil {
		return fmt.Errorf("a content stream cannot be read: %v", err)
	}
	if len(b) > maxContentBytes {
		return fmt.Errorf("a content stream is larger than %d bytes", maxContentBytes)
	}
	if !stringsTerminated(b) {
		return errUnterminated
	}
	return nil
}

// stringsTerminated lexes b as the reader does (comments to end of line,
// literal strings with nesting and backslash escapes, hex strings to '>')
// and reports whether every string that starts also ends. Any '(' outside
// a comment or string counts as a string start; where the reader would
// instead stop on a malformed name, refusing is still right.
func stringsTerminated(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '%':
			for i < len(b) && b[i] != '\r' && b[i] != '\n' {
				i++
			}
		case '(':
			depth := 1
			for i++; i < len(b) && depth > 0; i++ {
				switch b[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth > 0 {
				return false
			}
			i--
		case '<':
			if i+1 < len(b) && b[i+1] == '<' {
				i++
				continue
			}
			for i++; i < len(b) && b[i] != '>'; i++ {
			}
			if i >= len(b) {
				return false
			}
		}
	}
	return true
}
