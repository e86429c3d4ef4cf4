package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNumber(t *testing.T) {
	cases := []struct {
		n    Number
		want string
	}{
		{Number{Year: 2026, Seq: 123}, "2026/0000123"},
		{Number{Year: 2026, Seq: 1}, "2026/0000001"},
		{Number{Year: 2027, Seq: 9999999}, "2027/9999999"},
		{Number{Year: 2027, Seq: 12345678}, "2027/12345678"}, // grows past seven digits rather than wrapping
	}
	for _, c := range cases {
		if got := c.n.String(); got != c.want {
			t.Errorf("%+v = %q, want %q", c.n, got, c.want)
		}
		back, err := ParseNumber(c.want)
		if err != nil || back != c.n {
			t.Errorf("ParseNumber(%q) = %+v, %v", c.want, back, err)
		}
	}
	for _, bad := range []string{"", "2026", "2026/123", "26/0000123", "2026/000012x", "2026/0000000", "2026-0000123"} {
		if _, err := ParseNumber(bad); err == nil {
			t.Errorf("ParseNumber(%q) accepted", bad)
		}
	}
}

func TestYearAndDayInRome(t *testing.T) {
	cases := []struct {
		utc  string
		year int
		day  string
	}{
		{"2026-12-31T22:59:59Z", 2026, "2026-12-31"}, // 23:59:59 in Rome (CET, +1)
		{"2026-12-31T23:00:00Z", 2027, "2027-01-01"}, // midnight in Rome
		{"2026-06-30T22:30:00Z", 2026, "2026-07-01"}, // summer time, +2
	}
	for _, c := range cases {
		at, _ := time.Parse(time.RFC3339, c.utc)
		if YearOf(at) != c.year || DayOf(at).String() != c.day {
			t.Errorf("%s: year %d day %s, want %d %s", c.utc, YearOf(at), DayOf(at), c.year, c.day)
		}
	}
	d, err := ParseDay("2026-03-29")
	if err != nil || d.String() != "2026-03-29" || string(d.Key()) != "20260329" {
		t.Errorf("ParseDay: %v %v", d, err)
	}
	if _, err := ParseDay("2026-02-30"); err == nil {
		t.Error("ParseDay accepted 30 February")
	}
}

func entry(n Number, at time.Time) Entry {
	return Entry{Number: n, Time: at, Direction: Outgoing, Correspondent: "RSSMRA50B17A558W",
		Subject: "Certificato di residenza, ROSSI MARIO", DocType: "certificato anagrafico",
		DocSHA256: sha256.Sum256([]byte(n.String())), Ref: "c" + n.String()}
}

func TestValidate(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, Rome)
	good := entry(Number{Year: 2026, Seq: 1}, at)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Entry){
		"no time":          func(e *Entry) { e.Time = time.Time{} },
		"bad direction":    func(e *Entry) { e.Direction = "sideways" },
		"no correspondent": func(e *Entry) { e.Correspondent = " " },
		"no subject":       func(e *Entry) { e.Subject = "" },
		"no doc type":      func(e *Entry) { e.DocType = "" },
		"no hash":          func(e *Entry) { e.DocSHA256 = [32]byte{} },
	} {
		e := good
		mutate(&e)
		if err := e.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	day := Day{2026, time.November, 23}
	at := day.Start().Add(9 * time.Hour)
	es := []Entry{entry(Number{Year: 2026, Seq: 3}, at.Add(time.Minute)), entry(Number{Year: 2026, Seq: 2}, at)}
	es[0].Subject = `Certificato, "contestuale"` // needs CSV quoting
	var buf bytes.Buffer
	// The first layout, which days closed before the register's codes
	// keep: its bytes must not change.
	sum, err := WriteCSVFormat(&buf, day, es, CSVFormat1)
	if err != nil {
		t.Fatal(err)
	}
	if sum != sha256.Sum256(buf.Bytes()) {
		t.Error("returned hash is not the SHA-256 of the bytes written")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "numero,") ||
		!strings.HasPrefix(lines[1], "2026/0000002,2026-11-23T09:00:00+01:00,uscita,") ||
		!strings.HasPrefix(lines[2], "2026/0000003,") || !strings.Contains(lines[2], `"Certificato, ""contestuale"""`) {
		t.Errorf("register:\n%s", buf.String())
	}
	if es[0].Number.Seq != 3 {
		t.Error("WriteCSV reordered the caller's slice")
	}

	var again bytes.Buffer
	sum2, _ := WriteCSVFormat(&again, day, []Entry{es[1], es[0]}, CSVFormat1)
	if sum2 != sum || again.String() != buf.String() {
		t.Error("the export depends on the input order")
	}

	other := entry(Number{Year: 2026, Seq: 4}, at.Add(24*time.Hour))
	if _, err := WriteCSV(&bytes.Buffer{}, day, append(es, other)); err == nil {
		t.Error("an entry of another day was accepted")
	}
	if _, err := WriteCSV(&bytes.Buffer{}, day, append(es, es[0])); err == nil {
		t.Error("a duplicate number was accepted")
	}
}

func TestAnnulment(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, Rome)
	a := Annulment(Number{Year: 2026, Seq: 7}, at, "Ufficio protocollo", "Laura Bianchi, responsabile della gestione documentale", "emissione non riuscita", "c7")
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Reason() != "emissione non riuscita" || a.DocSHA256 != sha256.Sum256([]byte(a.AnnulmentStatement())) {
		t.Errorf("annulment %+v", a)
	}
	if out := entry(Number{Year: 2026, Seq: 8}, at); out.Reason() != "" {
		t.Error("a registration has an annulment reason")
	}
	for name, mutate := range map[string]func(*Entry){
		"no author": func(e *Entry) { e.Correspondent = "" },
		"no authorisation": func(e *Entry) {
			*e = Annulment(e.Number, e.Time, e.Correspondent, " ", e.Reason(), e.Ref)
		},
		"authorisation changed": func(e *Entry) { e.Authorisation = "Mario Rossi" },
		"no reason":             func(e *Entry) { e.Subject = "ANNULLATO: " },
		"reason changed":        func(e *Entry) { e.Subject = "ANNULLATO: altro" },
		"time changed":          func(e *Entry) { e.Time = e.Time.Add(time.Second) },
		"number changed":        func(e *Entry) { e.Number.Seq++ },
		"other doc type":        func(e *Entry) { e.DocType = "certificato anagrafico" },
		"document digest":       func(e *Entry) { e.DocSHA256 = sha256.Sum256([]byte("pdf")) },
	} {
		e := a
		mutate(&e)
		if err := e.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var buf bytes.Buffer
	if _, err := WriteCSVFormat(&buf, DayOf(at), []Entry{entry(Number{Year: 2026, Seq: 8}, at), a}, CSVFormat1); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "2026/0000007,2026-11-23T10:00:00+01:00,annullato,Ufficio protocollo,ANNULLATO: emissione non riuscita,annullamento di registrazione (art. 54 DPR 445/2000),") ||
		!strings.HasSuffix(lines[1], ",c7") {
		t.Errorf("register:\n%s", buf.String())
	}
	buf.Reset()
	if _, err := WriteCSV(&buf, DayOf(at), []Entry{entry(Number{Year: 2026, Seq: 8}, at), a}); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], ",,,2026/0000007,2026-11-23T10:00:00+01:00,annullato,Ufficio protocollo,ANNULLATO: emissione non riuscita,") ||
		!strings.HasSuffix(lines[1], ",c7,\"Laura Bianchi, responsabile della gestione documentale\"") {
		t.Errorf("register:\n%s", buf.String())
	}
}

// TestAnnulmentBeforeAuthorisation: an annulment registered before the
// authorisation was kept (its statement has none) still matches its digest
// and reads; a new one cannot leave it out.
func TestAnnulmentBeforeAuthorisation(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, Rome)
	old := Entry{Number: Number{Year: 2026, Seq: 4}, Time: at, Direction: Annulled, Correspondent: "procedura automatica del protocollo informatico (hub Sportello)",
		Subject: "ANNULLATO: numero assegnato a un documento la cui emissione non è riuscita", DocType: AnnulmentDocType}
	old.DocSHA256 = sha256.Sum256([]byte("Registrazione di protocollo n. 2026/0000004 annullata il 2026-03-02T09:30:00+01:00 da procedura automatica del protocollo informatico (hub Sportello). Motivo: numero assegnato a un documento la cui emissione non è riuscita"))
	if old.DocSHA256 != sha256.Sum256([]byte(old.AnnulmentStatement())) {
		t.Errorf("the statement of an annulment without authorisation changed: %s", old.AnnulmentStatement())
	}
	if err := old.Validate(); err == nil || !strings.Contains(err.Error(), "authorisation") {
		t.Errorf("a new annulment without authorisation: %v", err)
	}
	auto := Annulment(old.Number, at, old.Correspondent, RuleUnregistered, old.Reason(), "")
	if err := auto.Validate(); err != nil || !strings.Contains(auto.AnnulmentStatement(), "autorizzazione: "+RuleUnregistered) {
		t.Errorf("automatic annulment: %v %s", err, auto.AnnulmentStatement())
	}
}

// TestNumberWithRegister: a number carries its register's codes in the
// order of DPCM 3.12.2013 art. 9, reads back whole, and numbers written
// before the codes existed still read.
func TestNumberWithRegister(t *testing.T) {
	reg := Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERT"}
	n := Number{Register: reg, Year: 2026, Seq: 123}
	if got := n.String(); got != "c_f205.A1B2C3D.CERT.2026/0000123" {
		t.Errorf("String = %q", got)
	}
	if n.Short() != "2026/0000123" {
		t.Errorf("Short = %q", n.Short())
	}
	for s, want := range map[string]Number{
		"c_f205.A1B2C3D.CERT.2026/0000123": n,
		"2026/0000123":                     {Year: 2026, Seq: 123},
	} {
		if got, err := ParseNumber(s); err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, bad := range []string{"c_f205.A1B2C3D.2026/0000123", ".A1B2C3D.CERT.2026/0000123", "c_f205.A1B2C3D.CE RT.2026/0000123",
		"c_f205.A1B2C3D.CERT.2026/12", "c_f205.A1B2C3D.CERT.x.2026/0000123", "c_f205.A1B2C3D.CERT.+026/0000123"} {
		if _, err := ParseNumber(bad); err == nil {
			t.Errorf("ParseNumber(%q) accepted", bad)
		}
	}
	if !n.Same(Number{Year: 2026, Seq: 123}) || n.Same(Number{Register: reg, Year: 2026, Seq: 124}) {
		t.Error("Same compares more or less than year and progressive")
	}
	for _, bad := range []Register{{IPA: "c_f205"}, {IPA: "c_f205", AOO: "A1", Code: ""}, {IPA: "c.f205", AOO: "A1", Code: "CERT"}, {IPA: "c_f205", AOO: "A1", Code: strings.Repeat("X", MaxCodeLen+1)}} {
		if err := bad.Check(); !errors.Is(err, ErrRegister) {
			t.Errorf("Check(%+v) = %v", bad, err)
		}
	}
	e := entry(Number{Register: Register{IPA: "c_f205"}, Year: 2026, Seq: 1}, time.Date(2026, 1, 2, 10, 0, 0, 0, Rome))
	if err := e.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("an entry with partial codes: %v", err)
	}
}

// TestCSVNamesTheRegister: each row of the day's register carries its
// register's codes, so a day on which the city changed them reads right;
// a day closed in the first layout still exports its own bytes.
func TestCSVNamesTheRegister(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, Rome)
	a := Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERT"}
	b := Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERTANAG"}
	es := []Entry{entry(Number{Register: b, Year: 2026, Seq: 2}, at.Add(time.Hour)), entry(Number{Register: a, Year: 2026, Seq: 1}, at)}
	var buf bytes.Buffer
	if _, err := WriteCSV(&buf, DayOf(at), es); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "codice_amministrazione,codice_aoo,codice_registro,numero,data_ora,") ||
		!strings.HasPrefix(lines[1], "c_f205,A1B2C3D,CERT,2026/0000001,2026-05-04T09:00:00+02:00,uscita,") ||
		!strings.HasPrefix(lines[2], "c_f205,A1B2C3D,CERTANAG,2026/0000002,2026-05-04T10:00:00+02:00,uscita,") {
		t.Errorf("register:\n%s", buf.String())
	}
	if c := (Closing{}); c.CSVLayout() != CSVFormat1 {
		t.Errorf("a closing without layout is %d", c.CSVLayout())
	}
	if _, err := WriteCSVFormat(&buf, DayOf(at), es, 9); err == nil {
		t.Error("an unknown layout was written")
	}
}

func TestStamp(t *testing.T) {
	floor := time.Date(2026, 5, 4, 9, 0, 0, 0, Rome)
	for _, c := range []struct {
		now, floor, want time.Time
		err              error
	}{
		{floor.Add(time.Second), floor, floor.Add(time.Second), nil},
		{floor, floor, floor, nil},
		{floor.Add(-time.Second), floor, floor, nil},
		{floor.Add(-MaxStepBack), floor, floor, nil},
		{floor.Add(-MaxStepBack - time.Second), floor, time.Time{}, ErrClockBehind},
		{floor.Add(-48 * time.Hour), floor, time.Time{}, ErrClockBehind},
		{floor, time.Time{}, floor, nil}, // an empty register takes any time
	} {
		got, err := Stamp(c.now, c.floor)
		if !errors.Is(err, c.err) || !got.Equal(c.want) {
			t.Errorf("Stamp(%v, %v) = %v, %v; want %v, %v", c.now, c.floor, got, err, c.want, c.err)
		}
	}
}
