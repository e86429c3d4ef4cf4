package codicefiscale

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/places/anprtest"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// now is fixed so that century choices do not drift with the calendar.
var now = day("2025-06-01")

// Reference vectors (DESIGN.md; python-codicefiscale's tests).
var vectors = []struct {
	code string
	s    Subject
}{
	{"CCCFBA85D03L219P", Subject{Surname: "Caccamo", Name: "Fabio", Sex: 'M', Birth: day("1985-04-03"), Place: "L219"}},
	{"RSSMRA50B17A558W", Subject{Surname: "Rossi", Name: "Mario", Sex: 'M', Birth: day("1950-02-17"), Place: "A558"}},
	{"MRTMRA83T56A269B", Subject{Surname: "Martini", Name: "Maria", Sex: 'F', Birth: day("1983-12-16"), Place: "A269"}},
}

func TestEncodeVectors(t *testing.T) {
	for _, v := range vectors {
		got, err := Encode(v.s)
		if err != nil || got != v.code {
			t.Errorf("Encode(%+v) = %q, %v; want %q", v.s, got, err, v.code)
		}
	}
}

func TestEncodeNames(t *testing.T) {
	tests := []struct {
		surname, name string
		want          string // first six characters
	}{
		{"Rossi", "Fabrizio", "RSSFRZ"}, // four consonants in the name: 1st, 3rd, 4th
		{"Rossi", "Mario", "RSSMRA"},
		{"Fo", "Al", "FOXLAX"},          // X pads short parts
		{"Ai", "Eo", "AIXEOX"},          // vowels only
		{"D'Amico", "Nicolò", "DMCNCL"}, // apostrophe ignored, accent stripped
		{"Müller", "Jürgen", "MLLJGN"},
		{"De Luca", "Anna Maria", "DLCNMR"}, // two given names are one name
		{"Rossi-Bianchi", "Gianluca", "RSSGLC"},
		{"Straße", "Øystein", "STRYTN"},
		{"  o’neill ", "  ÉLODIE", "NLLLDE"},
	}
	for _, tc := range tests {
		got, err := Encode(Subject{Surname: tc.surname, Name: tc.name, Sex: 'M', Birth: day("1990-01-01"), Place: "F205"})
		if err != nil {
			t.Errorf("Encode(%q, %q): %v", tc.surname, tc.name, err)
			continue
		}
		if got[:6] != tc.want {
			t.Errorf("Encode(%q, %q) starts %q, want %q", tc.surname, tc.name, got[:6], tc.want)
		}
		if err := Validate(got); err != nil {
			t.Errorf("Encode(%q, %q) = %q, which does not validate: %v", tc.surname, tc.name, got, err)
		}
	}
}

func TestEncodeDateAndSex(t *testing.T) {
	tests := []struct {
		sex   byte
		birth string
		want  string // characters 7–11
	}{
		{'M', "2001-01-09", "01A09"},
		{'F', "2001-01-09", "01A49"},
		{'f', "1999-12-31", "99T71"},
		{'m', "1900-06-15", "00H15"},
		{'M', "2024-02-29", "24B29"},
		{'F', "1975-10-01", "75R41"},
	}
	for _, tc := range tests {
		got, err := Encode(Subject{Surname: "Rossi", Name: "Mario", Sex: tc.sex, Birth: day(tc.birth), Place: "h501"})
		if err != nil {
			t.Errorf("Encode(%c, %s): %v", tc.sex, tc.birth, err)
			continue
		}
		if got[6:11] != tc.want || got[11:15] != "H501" {
			t.Errorf("Encode(%c, %s) = %s, want characters 7–15 %sH501", tc.sex, tc.birth, got, tc.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	ok := Subject{Surname: "Rossi", Name: "Mario", Sex: 'M', Birth: day("1950-02-17"), Place: "A558"}
	tests := []struct {
		name   string
		change func(*Subject)
		want   string
	}{
		{"empty surname", func(s *Subject) { s.Surname = "" }, "surname is empty"},
		{"only punctuation", func(s *Subject) { s.Name = " ' - " }, "name is empty"},
		{"cyrillic", func(s *Subject) { s.Name = "Иван" }, "no Latin transliteration"},
		{"digit", func(s *Subject) { s.Surname = "Rossi2" }, "no Latin transliteration"},
		{"bad sex", func(s *Subject) { s.Sex = 'X' }, "neither M nor F"},
		{"no sex", func(s *Subject) { s.Sex = 0 }, "neither M nor F"},
		{"no birth", func(s *Subject) { s.Birth = time.Time{} }, "birth date is missing"},
		{"short place", func(s *Subject) { s.Place = "A55" }, "not a Belfiore code"},
		{"letters place", func(s *Subject) { s.Place = "ZZZZ" }, "not a Belfiore code"},
		{"digit first place", func(s *Subject) { s.Place = "1558" }, "not a Belfiore code"},
	}
	for _, tc := range tests {
		s := ok
		tc.change(&s)
		got, err := Encode(s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Encode = %q, %v; want an error containing %q", tc.name, got, err, tc.want)
		}
	}
}

func TestValidateInvalid(t *testing.T) {
	tests := []struct {
		code string
		pos  int
		want string
	}{
		{"", 0, "0 characters"},
		{"CCCFBA85D03L219", 0, "15 characters"},
		{"CCCFBA85D03L219PP", 0, "17 characters"},
		{"CCCFBA85D03L219-", 16, "not a letter or a digit"},
		{"CCCFBA85D03L219X", 16, "should be 'P'"},
		{"cccfba85d03l219x", 16, "should be 'P'"},
		{"CCCFBA85D03L2195", 16, "check character"},
		{"C1CFBA85D03L219P", 2, "surname"},
		{"CCCFB485D03L219P", 6, "name"},
		{"CCCFBAA5D03L219P", 7, "omocodia letters"},
		{"CCCFBA8WD03L219P", 8, "omocodia letters"},
		{"CCCFBA85003L219P", 9, "month"},
		{"CCCFBA85F03L219P", 9, "not a month letter"},
		{"CCCFBA85D35L219P", 10, "day of birth 35"},
		{"CCCFBA85D00L219P", 10, "day of birth 00"},
		{"CCCFBA85D72L219P", 10, "day of birth 72"},
		{"CCCFBA85B30L219P", 10, "30 February is an impossible date"},
		{"CCCFBA85B70L219P", 10, "30 February is an impossible date"},
		{"CCCFBA85D31L219P", 10, "31 April is an impossible date"},
		{"CCCFBA85B29L219P", 10, "never a leap year"},
		{"CCCFBA85D0AL219P", 11, "omocodia letters"},
		{"CCCFBA85D031219P", 12, "Belfiore"},
		{"CCCFBA85D03L2Z9P", 14, "omocodia letters"},
	}
	for _, tc := range tests {
		err := Validate(tc.code)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Validate(%q) = %v, want an *Error", tc.code, err)
			continue
		}
		if e.Pos != tc.pos || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%q) = %q at position %d, want position %d and %q", tc.code, err, e.Pos, tc.pos, tc.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate(%q) error spans lines: %q", tc.code, err)
		}
	}
}

func TestValidateValid(t *testing.T) {
	codes := []string{"CCCFBA85D03L219P", "cccfba85d03l219p", " CCCFBA85D03L219P\n", "RSSMRA50B17A558W", "MRTMRA83T56A269B"}
	// Leap days: 29 February is possible whenever the year is a multiple of 4.
	for _, yy := range []string{"00", "04", "84", "96"} {
		first := "RSSMRA" + yy + "B29H501"
		codes = append(codes, first+string(CheckChar(first)))
	}
	for _, c := range codes {
		if err := Validate(c); err != nil {
			t.Errorf("Validate(%q) = %v, want valid", c, err)
		}
	}
}

func TestOmocodes(t *testing.T) {
	const base = "CCCFBA85D03L219P"
	all, err := Omocodes(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 128 || all[0] != base {
		t.Fatalf("Omocodes gave %d codes starting %q, want 128 starting with the base", len(all), all[0])
	}
	want, err := Decode(base, places.Default(), now)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c] {
			t.Errorf("%s appears twice", c)
		}
		seen[c] = true
		info, err := Decode(c, places.Default(), now)
		if err != nil {
			t.Errorf("omocode %s: %v", c, err)
			continue
		}
		if info.Base != base || info.Omocode != (c != base) || info.Sex != want.Sex || !info.Birth.Equal(want.Birth) || info.PlaceCode != want.PlaceCode {
			t.Errorf("omocode %s decodes to %+v, want the data of %s", c, info, base)
		}
		if b, _ := Base(c); b != base {
			t.Errorf("Base(%s) = %s, want %s", c, b, base)
		}
		// Every variant yields the same family.
		if again, _ := Omocodes(c); !slices.Equal(again, all) {
			t.Errorf("Omocodes(%s) differs from Omocodes(%s)", c, base)
		}
	}
	if !seen["CCCFBA85D03L21VE"] {
		t.Error("CCCFBA85D03L21VE is not among the omocodes")
	}
	// The Agenzia's sequence substitutes from the right.
	prev := base
	for n := 0; n <= 7; n++ {
		c, err := Omocode("CCCFBA85D03L21VE", n)
		if err != nil {
			t.Fatal(err)
		}
		letters := 0
		for _, i := range digitPositions {
			if c[i] >= 'A' {
				letters++
			}
		}
		if letters != n || Validate(c) != nil || (n > 0 && !strings.HasPrefix(c, prev[:digitPositions[n-1]])) {
			t.Errorf("Omocode(n=%d) = %s: %d substituted, want %d from the right", n, c, letters, n)
		}
		prev = c
	}
	if c, _ := Omocode(base, 1); c != "CCCFBA85D03L21VE" {
		t.Errorf("Omocode(%s, 1) = %s, want CCCFBA85D03L21VE (last digit 9 → V)", base, c)
	}
	if c, _ := Omocode(base, 7); c[6:15] != "URDLPLNMV" {
		t.Errorf("Omocode(%s, 7) = %s, want every digit substituted", base, c)
	}
	for _, n := range []int{-1, 8} {
		if _, err := Omocode(base, n); err == nil {
			t.Errorf("Omocode(n=%d) accepted", n)
		}
	}
	if _, err := Omocodes("CCCFBA85D03L219X"); err == nil {
		t.Error("Omocodes of an invalid code succeeded")
	}
}

func anprComuni(t testing.TB) []places.Place {
	t.Helper()
	f, err := os.Open(anprtest.File(t, "ANPR_archivio_comuni.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := places.ParseANPR(f)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestDecodeVectors(t *testing.T) {
	full := places.Default().Clone()
	full.Add(anprComuni(t)...)
	for _, v := range vectors {
		info, err := Decode(v.code, full, now)
		if err != nil {
			t.Errorf("Decode(%s): %v", v.code, err)
			continue
		}
		if info.Code != v.code || info.Base != v.code || info.Omocode || info.Sex != v.s.Sex || !info.Birth.Equal(v.s.Birth) || info.PlaceCode != v.s.Place {
			t.Errorf("Decode(%s) = %+v, want %+v", v.code, info, v.s)
		}
		if info.Place == nil || !info.PlaceValid {
			t.Errorf("Decode(%s) did not find place %s", v.code, v.s.Place)
		}
	}
}

func TestDecodePlaces(t *testing.T) {
	def := places.Default()
	info, err := Decode("RSSMRA50B17A558W", def, now)
	if err != nil {
		t.Fatal(err)
	}
	if info.Place != nil {
		t.Errorf("A558 found in the default table: %+v", info.Place)
	}
	if !strings.Contains(info.Describe(), "A558 is not in the loaded places tables") {
		t.Errorf("Describe does not say the place is unknown:\n%s", info.Describe())
	}
	full := def.Clone()
	full.Add(anprComuni(t)...)
	if _, ok := def.Lookup("A558", time.Time{}); ok {
		t.Fatal("adding to a clone changed the default table")
	}
	info, err = Decode("rssmra50b17a558w", full, now)
	if err != nil {
		t.Fatal(err)
	}
	p := info.Place
	if p == nil || p.Name != "PORRETTA TERME" || p.Province != "BO" || !p.From.Equal(day("1931-09-27")) || !p.To.Equal(day("2015-12-31")) {
		t.Fatalf("A558 decoded to %+v, want PORRETTA TERME (BO) 1931-09-27 to 2015-12-31", p)
	}
	if d := info.Describe(); !strings.Contains(d, "PORRETTA TERME (BO), comune, valid 1931-09-27 to 2015-12-31") {
		t.Errorf("Describe:\n%s", d)
	}

	info, err = Decode("CCCFBA85D03L219P", def, now)
	if err != nil || info.Place == nil || info.Place.Name != "TORINO" || !info.PlaceValid {
		t.Errorf("Decode(CCCFBA85D03L219P) place = %+v, %v; want TORINO", info.Place, err)
	}
	if info, _ := Decode("CCCFBA85D03L219P", nil, now); info.Place != nil || !info.Birth.Equal(day("1985-04-03")) {
		t.Errorf("Decode with no table = %+v", info)
	}
}

func TestDecodeCentury(t *testing.T) {
	comuni := places.NewTable(anprComuni(t))
	// A fictitious comune that exists only from 2016, to see the fallback.
	recent := places.NewTable([]places.Place{{Code: "M999", Name: "NUOVO", Kind: places.Comune, From: day("2016-01-01")}})
	tests := []struct {
		name       string
		s          Subject
		table      *places.Table
		now        time.Time
		want       string
		placeValid bool
	}{
		{"most recent century", Subject{Birth: day("2010-05-05"), Place: "F205"}, comuni, now, "2010-05-05", true},
		{"not in the future", Subject{Birth: day("1925-12-01"), Place: "F205"}, comuni, now, "1925-12-01", true},
		{"today is not the future", Subject{Birth: day("2025-06-01"), Place: "F205"}, comuni, now, "2025-06-01", true},
		{"comune ceased in 1928", Subject{Birth: day("1910-05-05"), Place: "A003"}, comuni, now, "1910-05-05", true},
		{"ceased comune, no table", Subject{Birth: day("1910-05-05"), Place: "A003"}, nil, now, "2010-05-05", false},
		{"unknown place", Subject{Birth: day("1910-05-05"), Place: "Z999"}, comuni, now, "2010-05-05", false},
		{"place never valid: most recent", Subject{Birth: day("2010-05-05"), Place: "M999"}, recent, now, "2010-05-05", false},
		{"leap day of 2000", Subject{Birth: day("2000-02-29"), Place: "F205"}, comuni, now, "2000-02-29", true},
		{"leap day, 1900 skipped", Subject{Birth: day("2000-02-29"), Place: "F205"}, comuni, day("2050-01-01"), "2000-02-29", true},
	}
	for _, tc := range tests {
		tc.s.Surname, tc.s.Name, tc.s.Sex = "Rossi", "Maria", 'F'
		code, err := Encode(tc.s)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		info, err := Decode(code, tc.table, tc.now)
		if err != nil {
			t.Errorf("%s: Decode(%s): %v", tc.name, code, err)
			continue
		}
		if got := info.Birth.Format("2006-01-02"); got != tc.want || info.PlaceValid != tc.placeValid || info.Sex != 'F' {
			t.Errorf("%s: Decode(%s) born %s, place valid %v; want %s, %v", tc.name, code, got, info.PlaceValid, tc.want, tc.placeValid)
		}
	}
	recentInfo, _ := Decode(mustEncode(t, Subject{Surname: "Rossi", Name: "Mario", Sex: 'M', Birth: day("2010-05-05"), Place: "M999"}), recent, now)
	if recentInfo.Place == nil || recentInfo.Place.Name != "NUOVO" || !strings.Contains(recentInfo.Describe(), "warning") {
		t.Errorf("a place not valid on the birth date should still be shown, with a warning: %+v", recentInfo)
	}
	if _, err := Decode("CCCFBA85D03L219P", nil, time.Time{}); err == nil {
		t.Error("Decode with a zero now succeeded")
	}
	if _, err := Decode("CCCFBA85D03L219P", nil, day("1850-01-01")); err == nil {
		t.Error("Decode with every candidate birth after now succeeded")
	}
	if _, err := Decode("CCCFBA85D03L219X", nil, now); err == nil {
		t.Error("Decode of an invalid code succeeded")
	}
}

func mustEncode(t *testing.T, s Subject) string {
	t.Helper()
	c, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func FuzzValidate(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.code)
	}
	f.Add("CCCFBA85D03L21VE")
	f.Add("cccfba85b29l219x")
	f.Add("RSSMRA00B69H501?")
	f.Fuzz(func(t *testing.T, code string) {
		err := Validate(code)
		info, derr := Decode(code, places.Default(), now)
		if (err == nil) != (derr == nil) {
			// Decode may only add the "after today" refusal, impossible with
			// now in 2025 and candidates back to 1800.
			t.Fatalf("Validate(%q) = %v but Decode = %v", code, err, derr)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos < 0 || e.Pos > 16 {
				t.Fatalf("Validate(%q) = %v, not an *Error with a position", code, err)
			}
			return
		}
		base, err := Base(code)
		if err != nil || base != info.Base || Validate(base) != nil {
			t.Fatalf("Base(%q) = %q, %v; Decode's base %q", code, base, err, info.Base)
		}
		if again, _ := Base(base); again != base {
			t.Fatalf("Base is not idempotent on %q", base)
		}
		all, err := Omocodes(code)
		if err != nil || !slices.Contains(all, info.Code) {
			t.Fatalf("%q is not among its own omocodes", info.Code)
		}
		if info.Birth.After(now) {
			t.Fatalf("Decode(%q) born %v, after now", code, info.Birth)
		}
	})
}

func FuzzEncode(f *testing.F) {
	f.Add("Caccamo", "Fabio", byte('M'), 1985, 4, 3, "L219")
	f.Add("D'Amico", "Nicolò", byte('F'), 2000, 2, 29, "Z100")
	f.Fuzz(func(t *testing.T, surname, name string, sex byte, y, m, d int, place string) {
		if y < 1800 || y > 2025 || m < 1 || m > 12 || d < 1 || d > 31 {
			return
		}
		birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if birth.Day() != d || birth.After(now) {
			return
		}
		code, err := Encode(Subject{Surname: surname, Name: name, Sex: sex, Birth: birth, Place: place})
		if err != nil {
			return
		}
		info, err := Decode(code, nil, now)
		if err != nil {
			t.Fatalf("Encode gave %q, which does not decode: %v", code, err)
		}
		if info.Birth.Month() != birth.Month() || info.Birth.Day() != d || info.Birth.Year()%100 != y%100 || info.Sex != sex&^0x20 {
			t.Fatalf("Encode gave %q for %v %c, decoded %v %c", code, birth, sex, info.Birth, info.Sex)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	for _, s := range []Subject{
		{Surname: "D'Amico", Name: "Nicola", Sex: 'M', Birth: day("1985-04-03"), Place: "L219"},
		{Surname: "D'Amico", Name: "Nicolò", Sex: 'M', Birth: day("1985-04-03"), Place: "L219"},
	} {
		b.Run(s.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Encode(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	for b.Loop() {
		if err := Validate("CCCFBA85D03L21VE"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	t := places.Default()
	for b.Loop() {
		if _, err := Decode("CCCFBA85D03L21VE", t, now); err != nil {
			b.Fatal(err)
		}
	}
}
