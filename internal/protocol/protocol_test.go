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
		{Number{2026, 123}, "2026/0000123"},
		{Number{2026, 1}, "2026/0000001"},
		{Number{2027, 9999999}, "2027/9999999"},
		{Number{2027, 12345678}, "2027/12345678"}, // grows past seven digits rather than wrapping
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
	good := entry(Number{2026, 1}, at)
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
	es := []Entry{entry(Number{2026, 3}, at.Add(time.Minute)), entry(Number{2026, 2}, at)}
	es[0].Subject = `Certificato, "contestuale"` // needs CSV quoting
	var buf bytes.Buffer
	sum, err := WriteCSV(&buf, day, es)
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
	sum2, _ := WriteCSV(&again, day, []Entry{es[1], es[0]})
	if sum2 != sum || again.String() != buf.String() {
		t.Error("the export depends on the input order")
	}

	other := entry(Number{2026, 4}, at.Add(24*time.Hour))
	if _, err := WriteCSV(&bytes.Buffer{}, day, append(es, other)); err == nil {
		t.Error("an entry of another day was accepted")
	}
	if _, err := WriteCSV(&bytes.Buffer{}, day, append(es, es[0])); err == nil {
		t.Error("a duplicate number was accepted")
	}
}

func TestAnnulment(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, Rome)
	a := Annulment(Number{2026, 7}, at, "Ufficio protocollo", "emissione non riuscita", "c7")
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Reason() != "emissione non riuscita" || a.DocSHA256 != sha256.Sum256([]byte(a.AnnulmentStatement())) {
		t.Errorf("annulment %+v", a)
	}
	if out := entry(Number{2026, 8}, at); out.Reason() != "" {
		t.Error("a registration has an annulment reason")
	}
	for name, mutate := range map[string]func(*Entry){
		"no author":       func(e *Entry) { e.Correspondent = "" },
		"no reason":       func(e *Entry) { e.Subject = "ANNULLATO: " },
		"reason changed":  func(e *Entry) { e.Subject = "ANNULLATO: altro" },
		"time changed":    func(e *Entry) { e.Time = e.Time.Add(time.Second) },
		"number changed":  func(e *Entry) { e.Number.Seq++ },
		"other doc type":  func(e *Entry) { e.DocType = "certificato anagrafico" },
		"document digest": func(e *Entry) { e.DocSHA256 = sha256.Sum256([]byte("pdf")) },
	} {
		e := a
		mutate(&e)
		if err := e.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var buf bytes.Buffer
	if _, err := WriteCSV(&buf, DayOf(at), []Entry{entry(Number{2026, 8}, at), a}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "2026/0000007,2026-11-23T10:00:00+01:00,annullato,Ufficio protocollo,ANNULLATO: emissione non riuscita,annullamento di registrazione (art. 54 DPR 445/2000),") ||
		!strings.HasSuffix(lines[1], ",c7") {
		t.Errorf("register:\n%s", buf.String())
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
