package codicefiscale

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/places"
)

// Info is what a valid code says about its holder.
type Info struct {
	Code    string // as given, normalised to upper case
	Base    string // omocodia undone: shared by all 128 variants
	Omocode bool   // Code != Base
	Sex     byte   // 'M' or 'F'
	Birth   time.Time
	// PlaceCode is the Belfiore code in the code; Place is its record in the
	// table, nil when the table does not know the code (callers say "place X
	// not in the loaded tables").
	PlaceCode string
	Place     *places.Place
	// PlaceValid is true when Place's record was in force on Birth. A false
	// value with a non-nil Place means the code names a place that did not
	// exist (under that code) on the birth date in any plausible century;
	// Place is then the code's most recent record.
	PlaceValid bool
}

// oldestCentury bounds the search for the century: the Kingdom's cadastral
// codes start in 1861, so earlier births cannot be coded meaningfully.
const oldestCentury = 1800

// Decode validates code and reads its holder's data. The year has two digits;
// the century chosen is the most recent that puts the birth on or before
// now, unless only an earlier one has the birthplace valid on that date (a
// comune ceased in 1924 means 18YY or 19YY, not 20YY). t may be nil.
func Decode(code string, t *places.Table, now time.Time) (Info, error) {
	f, err := parse(code)
	if err != nil {
		return Info{}, err
	}
	if now.IsZero() {
		return Info{}, errors.New("decoding a codice fiscale needs today's date to choose the century of birth, and none was given")
	}
	info := Info{Code: f.code, Base: f.base, Omocode: f.code != f.base, Sex: 'M', PlaceCode: f.place}
	if f.female {
		info.Sex = 'F'
	}
	ny, nm, nd := now.Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)
	var candidates []time.Time
	for y := ny - ny%100 + f.yy; y >= oldestCentury; y -= 100 {
		b := time.Date(y, f.month, f.day, 0, 0, 0, 0, time.UTC)
		if b.Day() != f.day || b.After(today) {
			continue // 29 February of a century that is not a leap year, or the future
		}
		candidates = append(candidates, b)
	}
	if len(candidates) == 0 {
		return Info{}, fmt.Errorf("codice fiscale %s gives a birth date (%d %s, year ending in %02d) that is after today, %s", f.code, f.day, f.month, f.yy, today.Format("2006-01-02"))
	}
	info.Birth = candidates[0]
	for _, b := range candidates {
		if p, ok := t.Lookup(f.place, b); ok {
			info.Birth, info.Place, info.PlaceValid = b, &p, true
			return info, nil
		}
	}
	if p, ok := t.Lookup(f.place, time.Time{}); ok {
		info.Place = &p
	}
	return info, nil
}

// Describe is a few lines for a person: the code, the omocodia base, sex,
// birth date and birthplace with the dates its record was valid.
func (i Info) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "code:       %s (valid)\n", i.Code)
	if i.Omocode {
		fmt.Fprintf(&b, "omocode of: %s\n", i.Base)
	}
	sex := "male"
	if i.Sex == 'F' {
		sex = "female"
	}
	fmt.Fprintf(&b, "sex:        %s\n", sex)
	fmt.Fprintf(&b, "born:       %s\n", i.Birth.Format("2006-01-02"))
	switch {
	case i.Place == nil:
		fmt.Fprintf(&b, "place:      %s is not in the loaded places tables (import ANPR's archive with hub places import)\n", i.PlaceCode)
	default:
		p := i.Place
		name := p.Name
		if p.Province != "" {
			name += " (" + p.Province + ")"
		}
		to := "today"
		if !p.To.IsZero() {
			to = p.To.Format("2006-01-02")
		}
		kind := "comune"
		if p.Kind == places.State {
			kind = "foreign state"
		}
		fmt.Fprintf(&b, "place:      %s %s, %s, valid %s to %s\n", i.PlaceCode, name, kind, p.From.Format("2006-01-02"), to)
		if !i.PlaceValid {
			fmt.Fprintf(&b, "warning:    %s was not a valid place code on the birth date\n", i.PlaceCode)
		}
	}
	return b.String()
}
