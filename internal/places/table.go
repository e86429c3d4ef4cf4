package places

import (
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Table indexes places by Belfiore code. Each code keeps all its validity
// periods, because a codice fiscale names the place as it was on the day of
// birth, and codes outlive renames and even change hands (D588 was Marne,
// then Filago).
//
// A Table is not safe for concurrent Add; concurrent reads are fine once it is
// built.
type Table struct {
	byCode map[string][]Place  // sorted by From
	byName map[string][]string // folded name → codes that have (or had) it
	n      int
}

// NewTable builds a table from ps; see Add for duplicates.
func NewTable(ps []Place) *Table {
	t := &Table{byCode: make(map[string][]Place, len(ps)), byName: make(map[string][]string, len(ps))}
	t.Add(ps...)
	return t
}

// Add inserts records. A record with the same Code and From as one already
// present replaces it, so re-importing a newer ANPR release corrects rather
// than duplicates.
func (t *Table) Add(ps ...Place) {
	if t.byCode == nil {
		t.byCode = make(map[string][]Place)
		t.byName = make(map[string][]string)
	}
	touched := make(map[string]bool)
	for _, p := range ps {
		p.From = day(p.From)
		if !p.To.IsZero() {
			p.To = day(p.To)
		}
		hist := t.byCode[p.Code]
		replaced := false
		for i := range hist {
			if hist[i].From.Equal(p.From) {
				hist[i] = p
				replaced = true
				break
			}
		}
		if !replaced {
			hist = append(hist, p)
			t.n++
		}
		t.byCode[p.Code] = hist
		touched[p.Code] = true
		// A replaced record may leave its old name pointing at this code;
		// Find re-checks names, so the stale entry is harmless.
		if k := foldName(p.Name); !slices.Contains(t.byName[k], p.Code) {
			t.byName[k] = append(t.byName[k], p.Code)
		}
	}
	for code := range touched {
		hist := t.byCode[code]
		sort.SliceStable(hist, func(i, j int) bool { return hist[i].From.Before(hist[j].From) })
	}
}

// Lookup returns the record of code valid on the given day. A zero day asks
// for the most recent record, whatever its dates.
func (t *Table) Lookup(code string, on time.Time) (Place, bool) {
	if t == nil {
		return Place{}, false
	}
	hist := t.byCode[code]
	if len(hist) == 0 {
		return Place{}, false
	}
	if on.IsZero() {
		return hist[len(hist)-1], true
	}
	d := day(on)
	// Histories are a handful of records, and ANPR's occasionally overlap, so a
	// backward scan (latest start first) beats a binary search on both counts.
	for i := len(hist) - 1; i >= 0; i-- {
		p := hist[i]
		if p.From.After(d) {
			continue
		}
		if p.To.IsZero() || !d.After(p.To) {
			return p, true
		}
	}
	return Place{}, false
}

// Clone returns an independent copy, so a caller can extend a shared table
// (such as Default) without changing it for everyone else.
func (t *Table) Clone() *Table {
	c := &Table{byCode: make(map[string][]Place, len(t.byCode)), byName: make(map[string][]string, len(t.byName)), n: t.n}
	for k, v := range t.byCode {
		c.byCode[k] = append([]Place(nil), v...)
	}
	for k, v := range t.byName {
		c.byName[k] = append([]string(nil), v...)
	}
	return c
}

// History returns every record of code, oldest first. The slice is a copy.
func (t *Table) History(code string) []Place {
	if t == nil {
		return nil
	}
	return append([]Place(nil), t.byCode[code]...)
}

// Len is the number of records (not codes).
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return t.n
}

// Find returns the records whose name is name, ignoring case, accents and
// punctuation ("Forli" finds FORLÌ, "reggio nell emilia" finds REGGIO
// NELL'EMILIA). Results are sorted by code, then From.
func (t *Table) Find(name string) []Place {
	if t == nil {
		return nil
	}
	k := foldName(name)
	if k == "" {
		return nil
	}
	var out []Place
	for _, code := range t.byName[k] {
		for _, p := range t.byCode[code] {
			if foldName(p.Name) == k {
				out = append(out, p)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Code != out[j].Code {
			return out[i].Code < out[j].Code
		}
		return out[i].From.Before(out[j].From)
	})
	return out
}

// day drops the clock and the zone: validity is by calendar day.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// stripMarks is built per call: a Chain keeps state and is not safe to share
// between goroutines.
func stripMarks() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// foldName reduces a name to upper-case letters and digits separated by
// single spaces.
func foldName(s string) string {
	if !isASCII(s) {
		if folded, _, err := transform.String(stripMarks(), s); err == nil {
			s = folded
		}
	}
	var b strings.Builder
	space := false
	for _, r := range strings.ToUpper(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
