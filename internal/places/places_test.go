package places

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/places/anprtest"
)

var (
	anprOnce   sync.Once
	anprComuni []Place
	anprStati  []Place
	anprErr    error
)

func loadANPR(tb testing.TB) (comuni, stati []Place) {
	tb.Helper()
	dir := anprtest.Dir(tb)
	anprOnce.Do(func() {
		for name, dst := range map[string]*[]Place{"ANPR_archivio_comuni.csv": &anprComuni, "stati_esteri.csv": &anprStati} {
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				anprErr = err
				return
			}
			*dst, err = ParseANPR(f)
			f.Close()
			if err != nil {
				anprErr = err
				return
			}
		}
	})
	if anprErr != nil {
		tb.Fatal(anprErr)
	}
	return anprComuni, anprStati
}

func date(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(isoDate, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseANPRComuni(t *testing.T) {
	comuni, _ := loadANPR(t)
	if len(comuni) < 19000 {
		t.Fatalf("parsed %d comuni records, the archive has over 19000", len(comuni))
	}
	for _, p := range comuni {
		if p.Code == "ND" || p.Kind != Comune {
			t.Fatalf("record %+v should have been skipped or marked as a comune", p)
		}
	}
	tab := NewTable(comuni)
	tests := []struct {
		code, on     string
		name, prov   string
		from, to     string
		wantNotFound bool
	}{
		{code: "A558", on: "2010-06-01", name: "PORRETTA TERME", prov: "BO", from: "1931-09-27", to: "2015-12-31"},
		{code: "A558", on: "2015-12-31", name: "PORRETTA TERME", prov: "BO", from: "1931-09-27", to: "2015-12-31"},
		{code: "A558", on: "2016-01-01", wantNotFound: true}, // merged into Alto Reno Terme
		{code: "A558", on: "1930-01-01", name: "BAGNI DELLA PORRETTA", prov: "BO", from: "1926-01-22", to: "1931-09-26"},
		{code: "A558", on: "1800-01-01", wantNotFound: true},
		{code: "A558", on: "", name: "PORRETTA TERME", prov: "BO", from: "1931-09-27", to: "2015-12-31"},
		{code: "F205", on: "2024-02-29", name: "MILANO", prov: "MI", from: "1997-07-26"},
		{code: "D704", on: "1950-01-01", name: "FORLÌ", prov: "FO", from: "1939-12-05", to: "1992-04-15"},
		{code: "A089", on: "1920-01-01", name: "GIRGENTI", prov: "AG", from: "1861-03-17", to: "1927-07-26"},
		{code: "Q999", on: "2000-01-01", wantNotFound: true},
	}
	for _, tc := range tests {
		p, ok := tab.Lookup(tc.code, date(tc.on))
		if tc.wantNotFound {
			if ok {
				t.Errorf("Lookup(%s, %s) = %+v, want nothing", tc.code, tc.on, p)
			}
			continue
		}
		if !ok {
			t.Errorf("Lookup(%s, %s) found nothing", tc.code, tc.on)
			continue
		}
		if p.Name != tc.name || p.Province != tc.prov || !p.From.Equal(date(tc.from)) || !p.To.Equal(date(tc.to)) {
			t.Errorf("Lookup(%s, %s) = %s %s %v–%v, want %s %s %s–%s", tc.code, tc.on, p.Name, p.Province, p.From, p.To, tc.name, tc.prov, tc.from, tc.to)
		}
	}
	if h := tab.History("A558"); len(h) != 3 {
		t.Errorf("A558 has %d records, want 3", len(h))
	}
}

func TestParseANPRStati(t *testing.T) {
	_, stati := loadANPR(t)
	if len(stati) < 190 {
		t.Fatalf("parsed %d foreign states, want at least 190", len(stati))
	}
	tab := NewTable(stati)
	p, ok := tab.Lookup("Z100", date("1990-05-05"))
	if !ok || p.Name != "ALBANIA" || p.ISO3 != "ALB" || p.ISTAT != "201" || p.Kind != State || !p.To.IsZero() {
		t.Errorf("Z100 = %+v, %v; want ALBANIA ALB 201, still valid", p, ok)
	}
	for _, p := range stati {
		if !IsCode(p.Code) || p.Code[0] != 'Z' {
			t.Errorf("state %q has code %q, want a Z code", p.Name, p.Code)
		}
		if p.Name == "ITALIA" || p.Name == "APOLIDE" {
			t.Errorf("%s has no CODAT and should be skipped", p.Name)
		}
	}
}

func TestParseANPRErrors(t *testing.T) {
	const comuniHead = "\uFEFF\"ID\",\"DATAISTITUZIONE\",\"DATACESSAZIONE\",\"CODISTAT\",\"CODCATASTALE\",\"DENOMINAZIONE_IT\",\"SIGLAPROVINCIA\"\n"
	const statiHead = "ID,DENOMINAZIONE,DATAINIZIOVALIDITA,DATAFINEVALIDITA,CODISO3166_1_ALPHA3,CODAT,CODISTAT\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"unknown header", "A,B,C\n1,2,3\n", "line 1 is neither"},
		{"bad start date", comuniHead + "1,\"1861-03-17\",\"9999-12-31\",\"001001\",\"A001\",\"X\",\"TO\"\n2,\"1861-13-17\",\"9999-12-31\",\"001001\",\"A002\",\"Y\",\"TO\"\n", "line 3 has DATAISTITUZIONE \"1861-13-17\""},
		{"bad end date", comuniHead + "1,\"1861-03-17\",\"31/12/9999\",\"001001\",\"A001\",\"X\",\"TO\"\n", "line 2 has DATACESSAZIONE"},
		{"bad code", comuniHead + "1,\"1861-03-17\",\"9999-12-31\",\"001001\",\"AB01\",\"X\",\"TO\"\n", "line 2 has code \"AB01\""},
		{"no name", comuniHead + "1,\"1861-03-17\",\"9999-12-31\",\"001001\",\"A001\",\"\",\"TO\"\n", "line 2 has no name"},
		{"ends before start", comuniHead + "1,\"1861-03-17\",\"1860-01-01\",\"001001\",\"A001\",\"X\",\"TO\"\n", "line 2 ends (1860-01-01) before it starts"},
		{"short row", comuniHead + "1,\"1861-03-17\"\n", "line 2 is not valid CSV"},
		{"state bad date", statiHead + "2,ALBANIA,1900-01-01,31/12/9999,ALB,Z100,201\n", "line 2 has DATAINIZIOVALIDITA"},
		{"state bad code", statiHead + "2,ALBANIA,01/01/1900,31/12/9999,ALB,Z10,201\n", "line 2 has code \"Z10\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseANPR(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseANPR error = %v, want one containing %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
	// Rows that are not birthplaces are skipped, not errors.
	ps, err := ParseANPR(strings.NewReader(comuniHead + "1,\"1861-03-17\",\"1911-07-04\",\"003809\",\"ND\",\"ARIZZANO\",\"NO\"\n"))
	if err != nil || len(ps) != 0 {
		t.Errorf("ND row: got %v, %v; want it skipped", ps, err)
	}
	ps, err = ParseANPR(strings.NewReader(statiHead + "90,ITALIA,01/01/1900,31/12/9999,ITA,,100\n197,x,,,,,888\n"))
	if err != nil || len(ps) != 0 {
		t.Errorf("rows without CODAT: got %v, %v; want them skipped", ps, err)
	}
}

// TestDefaultMatchesANPR checks the embedded table against the reference
// files: every record must be ANPR's, and every code must carry its full
// history, so a hand edit or a stale generation shows up here.
func TestDefaultMatchesANPR(t *testing.T) {
	comuni, stati := loadANPR(t)
	ref := NewTable(append(append([]Place(nil), comuni...), stati...))
	def := Default()
	codes := map[string]bool{}
	for code, hist := range def.byCode {
		codes[code] = true
		if code == "Z000" {
			continue // not in ANPR's table: Italy has no CODAT
		}
		want := ref.History(code)
		if len(hist) != len(want) {
			t.Errorf("%s: default has %d records, ANPR %d", code, len(hist), len(want))
			continue
		}
		for i := range hist {
			if hist[i] != want[i] {
				t.Errorf("%s record %d: default %+v, ANPR %+v", code, i, hist[i], want[i])
			}
		}
	}
	// Every province that exists today has its capital.
	current := map[string]bool{}
	for _, p := range comuni {
		if p.To.IsZero() {
			current[p.Province] = true
		}
	}
	if len(current) != 107 {
		t.Errorf("ANPR archive has %d current provinces, the default table was built for 107", len(current))
	}
	for prov := range current {
		found := false
		for _, hist := range def.byCode {
			last := hist[len(hist)-1]
			if last.Kind == Comune && last.To.IsZero() && last.Province == prov {
				found = true
			}
		}
		if !found {
			t.Errorf("province %s has no capital in the default table", prov)
		}
	}
}

func TestDefaultContents(t *testing.T) {
	def := Default()
	comuni, states := 0, 0
	for _, hist := range def.byCode {
		switch hist[0].Kind {
		case Comune:
			comuni++
		case State:
			states++
		}
	}
	if comuni < 107 || states < 60 {
		t.Errorf("default table has %d comuni and %d states, want at least 107 and 60", comuni, states)
	}
	now := date("2025-01-01")
	for code, name := range map[string]string{
		"F205": "MILANO", "H501": "ROMA", "E897": "MANTOVA", "D969": "GENOVA", "H223": "REGGIO NELL'EMILIA",
		"L219": "TORINO", "G479": "PESARO", "L500": "URBINO", "F023": "MASSA", "B832": "CARRARA",
		"D704": "FORLÌ", "C573": "CESENA", "A669": "BARLETTA", "A285": "ANDRIA", "L328": "TRANI",
		"B745": "CARBONIA", "E281": "IGLESIAS",
		"Z000": "ITALIA", "Z129": "ROMANIA", "Z100": "ALBANIA", "Z330": "MAROCCO", "Z210": "REPUBBLICA POPOLARE CINESE",
		"Z138": "UCRAINA", "Z216": "FILIPPINE", "Z222": "INDIA", "Z249": "BANGLADESH", "Z336": "EGITTO",
		"Z236": "PAKISTAN", "Z611": "PERU'", "Z209": "SRI LANKA", "Z343": "SENEGAL", "Z605": "ECUADOR",
		"Z140": "MOLDOVA", "Z352": "TUNISIA", "Z335": "NIGERIA", "Z602": "BRASILE", "Z110": "FRANCIA",
		"Z112": "GERMANIA", "Z114": "REGNO UNITO", "Z404": "STATI UNITI D'AMERICA", "Z133": "SVIZZERA",
	} {
		p, ok := def.Lookup(code, now)
		if !ok || p.Name != name {
			t.Errorf("Default().Lookup(%s) = %q, %v; want %q", code, p.Name, ok, name)
		}
	}
	if _, ok := def.Lookup("A558", time.Time{}); ok {
		t.Error("A558 (Porretta Terme) is not a provincial capital and should not be in the default table")
	}
}

func TestLookupAndAdd(t *testing.T) {
	tab := NewTable([]Place{
		{Code: "A001", Name: "NEW", Kind: Comune, From: date("1924-11-14")},
		{Code: "A001", Name: "OLD", Kind: Comune, From: date("1866-11-19"), To: date("1924-11-13")},
		{Code: "B002", Name: "GAPPY", Kind: Comune, From: date("1900-01-01"), To: date("1910-12-31")},
		{Code: "B002", Name: "GAPPY AGAIN", Kind: Comune, From: date("1920-01-01"), To: date("1930-12-31")},
	})
	rome := time.FixedZone("CET", 3600)
	tests := []struct {
		code string
		on   time.Time
		want string // "" = not found
	}{
		{"A001", date("1924-11-13"), "OLD"},
		{"A001", date("1924-11-14"), "NEW"},
		{"A001", time.Date(1924, 11, 13, 23, 30, 0, 0, rome), "OLD"}, // the calendar day counts, not the instant
		{"A001", date("1866-11-18"), ""},
		{"A001", time.Time{}, "NEW"},
		{"B002", date("1915-01-01"), ""},
		{"B002", date("1930-12-31"), "GAPPY AGAIN"},
		{"B002", time.Time{}, "GAPPY AGAIN"},
		{"C003", time.Time{}, ""},
	}
	for _, tc := range tests {
		p, ok := tab.Lookup(tc.code, tc.on)
		if ok != (tc.want != "") || p.Name != tc.want {
			t.Errorf("Lookup(%s, %v) = %q, %v; want %q", tc.code, tc.on, p.Name, ok, tc.want)
		}
	}
	if tab.Len() != 4 {
		t.Errorf("Len = %d, want 4", tab.Len())
	}
	tab.Add(Place{Code: "A001", Name: "RENAMED", Kind: Comune, From: date("1924-11-14")})
	if p, _ := tab.Lookup("A001", time.Time{}); p.Name != "RENAMED" || tab.Len() != 4 {
		t.Errorf("after replacing: %q, Len %d; want RENAMED, 4", p.Name, tab.Len())
	}
	if got := tab.Find("new"); len(got) != 0 {
		t.Errorf("Find(new) after rename = %v, want nothing", got)
	}
	c := tab.Clone()
	c.Add(Place{Code: "D004", Name: "ONLY IN CLONE", From: date("2000-01-01")})
	if _, ok := tab.Lookup("D004", time.Time{}); ok || c.Len() != 5 {
		t.Error("Clone shares state with its original")
	}
	var empty Table
	empty.Add(Place{Code: "E005", Name: "ZERO VALUE", From: date("2000-01-01")})
	if _, ok := empty.Lookup("E005", date("2001-01-01")); !ok {
		t.Error("a zero Table does not accept records")
	}
}

func TestFind(t *testing.T) {
	def := Default()
	tests := []struct {
		name  string
		codes []string
	}{
		{"forli", []string{"D704"}},
		{"  Forlì ", []string{"D704"}},
		{"reggio nell emilia", []string{"H223"}},
		{"Reggio nell'Emilia", []string{"H223"}},
		{"bolzano", []string{"A952"}},
		{"SANT'ANTIOCO", nil},
		{"Girgenti", []string{"A089"}},
		{"albania", []string{"Z100"}},
		{"Atlantide", nil},
		{"", nil},
	}
	for _, tc := range tests {
		got := def.Find(tc.name)
		var codes []string
		for _, p := range got {
			if len(codes) == 0 || codes[len(codes)-1] != p.Code {
				codes = append(codes, p.Code)
			}
		}
		if strings.Join(codes, ",") != strings.Join(tc.codes, ",") {
			t.Errorf("Find(%q) codes = %v, want %v", tc.name, codes, tc.codes)
		}
	}
}

func TestCSVRoundTrip(t *testing.T) {
	in := Default().History("D704")
	in = append(in, Default().History("Z000")...)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := ParseCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("round trip gave %d records, want %d", len(out), len(in))
	}
	for i := range in {
		if in[i] != out[i] {
			t.Errorf("record %d: wrote %+v, read %+v", i, in[i], out[i])
		}
	}
}

func TestParseCSVErrors(t *testing.T) {
	const head = "code,kind,name,province,istat,iso3,from,to\n"
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"code,name\n", "line 1 has header"},
		{head + "A001,town,X,,,,2000-01-01,\n", "line 2 has kind \"town\""},
		{head + "A001,comune,X,,,,01/01/2000,\n", "line 2 has from date"},
		{head + "A001,comune,X,,,,2000-01-01,never\n", "line 2 has to date"},
		{head + "A001,comune,X,,,,2000-01-01,1999-01-01\n", "line 2 ends"},
		{head + "A001,comune,X\n", "line 2 is not valid CSV"},
	}
	for _, tc := range tests {
		_, err := ParseCSV(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCSV(%q) error = %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseANPR(f *testing.F) {
	f.Add("CODCATASTALE,DENOMINAZIONE_IT,DATAISTITUZIONE,DATACESSAZIONE,SIGLAPROVINCIA,CODISTAT\nA001,X,1900-01-01,9999-12-31,TO,001001\n")
	f.Add("CODAT,DENOMINAZIONE,DATAINIZIOVALIDITA,DATAFINEVALIDITA,CODISO3166_1_ALPHA3,CODISTAT\nZ100,ALBANIA,01/01/1900,31/12/9999,ALB,201\n")
	f.Add("code,kind,name,province,istat,iso3,from,to\nA001,comune,X,,,,2000-01-01,\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, parse := range []func(string) ([]Place, error){
			func(s string) ([]Place, error) { return ParseANPR(strings.NewReader(s)) },
			func(s string) ([]Place, error) { return ParseCSV(strings.NewReader(s)) },
		} {
			ps, err := parse(in)
			if err != nil {
				continue
			}
			for _, p := range ps {
				if !IsCode(p.Code) || (!p.To.IsZero() && p.To.Before(p.From)) {
					t.Fatalf("accepted a bad record %+v", p)
				}
			}
			NewTable(ps).Lookup("A001", time.Time{})
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	comuni, stati := loadANPR(b)
	tab := NewTable(append(append([]Place(nil), comuni...), stati...))
	codes := []string{"F205", "H501", "A558", "Z100", "D704", "L219"}
	on := date("1985-04-03")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := tab.Lookup(codes[i%len(codes)], on); !ok {
			b.Fatal("lookup failed")
		}
	}
}

func BenchmarkFind(b *testing.B) {
	def := Default()
	for b.Loop() {
		if len(def.Find("Reggio nell'Emilia")) == 0 {
			b.Fatal("not found")
		}
	}
}
