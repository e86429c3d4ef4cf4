package operators

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/registry"
)

func TestPartitaIVA(t *testing.T) {
	tests := []struct {
		in, want string
		err      string
	}{
		{in: "01199250158", want: "01199250158"},    // Comune di Milano
		{in: "00905811006", want: "00905811006"},    // Eni S.p.A.
		{in: "IT 01114601006", want: "01114601006"}, // Poste Italiane, as printed on invoices
		{in: "01199250157", err: "check digit 7"},
		{in: "01199250185", err: "check digit"}, // two digits swapped
		{in: "0119925015", err: "11 digits"},
		{in: "0119925015A", err: "digits only"},
		{in: "00000000000", err: "all-zero"},
	}
	for _, tt := range tests {
		got, err := ValidatePartitaIVA(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one mentioning %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// Every single-digit typing error changes the check digit.
func TestPartitaIVACatchesEverySingleDigitError(t *testing.T) {
	good := "01199250158"
	for i := 0; i < 10; i++ {
		for d := byte('0'); d <= '9'; d++ {
			if good[i] == d {
				continue
			}
			bad := good[:i] + string(d) + good[i+1:]
			if _, err := ValidatePartitaIVA(bad); err == nil {
				t.Errorf("%s (digit %d changed) was accepted", bad, i+1)
			}
		}
	}
}

func FuzzPartitaIVA(f *testing.F) {
	f.Add("01199250158")
	f.Add("IT00905811006")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ValidatePartitaIVA(s)
		if err != nil {
			return
		}
		if len(got) != 11 || PartitaIVACheckDigit(got[:10]) != got[10] {
			t.Fatalf("accepted %q as %q", s, got)
		}
	})
}

func date(s string) registry.Date {
	d, err := registry.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func rome(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Rome)
	if err != nil {
		panic(err)
	}
	return t
}

func TestEaster(t *testing.T) {
	// Dates of Easter Sunday from the Gregorian tables.
	want := map[int]string{
		1961: "1961-04-02", 2000: "2000-04-23", 2008: "2008-03-23", 2011: "2011-04-24",
		2019: "2019-04-21", 2024: "2024-03-31", 2025: "2025-04-20", 2026: "2026-04-05",
		2038: "2038-04-25", 2285: "2285-03-22",
	}
	for y, w := range want {
		if got := Easter(y).String(); got != w {
			t.Errorf("Easter %d = %s, want %s", y, got, w)
		}
	}
}

func TestHolidays(t *testing.T) {
	tests := []struct {
		day  string
		cal  Calendar
		name string // "" for a working day
	}{
		{"2026-01-01", Calendar{}, "Capodanno"},
		{"2026-04-06", Calendar{}, "Lunedì dell'Angelo"},
		{"2025-04-21", Calendar{}, "Lunedì dell'Angelo"},
		{"2026-04-07", Calendar{}, ""},
		{"2026-06-02", Calendar{}, "Festa della Repubblica"},
		{"2026-12-07", Milan, "Sant'Ambrogio"},
		{"2026-12-07", Calendar{}, ""},
		{"2026-10-04", Calendar{}, "San Francesco d'Assisi"},
		{"2025-10-04", Calendar{}, ""},
	}
	for _, tt := range tests {
		name, ok := tt.cal.Holiday(date(tt.day))
		if name != tt.name || ok != (tt.name != "") {
			t.Errorf("%s: got %q %v, want %q", tt.day, name, ok, tt.name)
		}
	}
}

func spans(t *testing.T, ss ...string) []Interval {
	t.Helper()
	var out []Interval
	for _, s := range ss {
		iv, err := ParseInterval(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, iv)
	}
	return out
}

func shopHours(t *testing.T) Hours {
	var h Hours
	for d := time.Monday; d <= time.Friday; d++ {
		h.Week.Set(d, spans(t, "07:00-12:30", "15:00-19:00")...)
	}
	h.Week.Set(time.Saturday, spans(t, "07:30-13:00")...)
	h.Exceptions = []Exception{
		{From: date("2026-08-10"), To: date("2026-08-23"), Note: "chiuso per ferie"},
		{From: date("2026-08-15"), Spans: spans(t, "08:00-12:00"), Note: "aperto a Ferragosto"},
	}
	return h
}

func TestOpenAt(t *testing.T) {
	h := shopHours(t)
	tests := []struct {
		at   string
		open bool
	}{
		{"2026-04-07 07:00", true},  // Tuesday, opening minute
		{"2026-04-07 12:30", false}, // closing minute is closed
		{"2026-04-07 13:00", false}, // lunch
		{"2026-04-07 18:59", true},
		{"2026-04-11 12:00", true},  // Saturday
		{"2026-04-11 15:00", false}, // Saturday afternoon
		{"2026-04-12 10:00", false}, // Sunday
		{"2026-04-06 10:00", false}, // Easter Monday
		{"2026-04-25 10:00", false}, // Liberazione, a Saturday
		{"2026-08-12 10:00", false}, // summer closure
		{"2026-08-15 10:00", true},  // a later exception carves a day out of the closure
		{"2026-08-24 10:00", true},  // back after the closure
	}
	for _, tt := range tests {
		if got := h.OpenAt(rome(tt.at), Milan); got != tt.open {
			t.Errorf("%s: open %v, want %v", tt.at, got, tt.open)
		}
	}
	// The same instant given in UTC is read in Rome: 05:30 UTC is 07:30 CEST.
	if !h.OpenAt(time.Date(2026, 4, 7, 5, 30, 0, 0, time.UTC), Milan) {
		t.Error("an instant in UTC was not read in Rome's time")
	}
	open := h
	open.OpenOnHolidays = true
	if !open.OpenAt(rome("2026-04-06 10:00"), Milan) {
		t.Error("OpenOnHolidays: closed on Easter Monday")
	}
}

func TestHoursValidate(t *testing.T) {
	if _, err := ParseInterval("12:00-08:00"); err == nil {
		t.Error("a span closing before it opens was accepted")
	}
	for _, s := range []string{"7-12", "07:00", "25:00-26:00", "07:60-08:00", "24:30-24:45"} {
		if _, err := ParseInterval(s); err == nil {
			t.Errorf("%q was accepted", s)
		}
	}
	if iv, err := ParseInterval("20:00-24:00"); err != nil || iv.Close != 24*60 {
		t.Errorf("20:00-24:00: %v %v", iv, err)
	}
	var h Hours
	h.Week.Set(time.Monday, spans(t, "08:00-12:00", "11:00-14:00")...)
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping spans: %v", err)
	}
	h = Hours{Exceptions: []Exception{{From: date("2026-05-02"), To: date("2026-05-01")}}}
	if err := h.Validate(); err == nil {
		t.Error("an exception ending before it starts was accepted")
	}
}

func TestHoursJSONRoundTrip(t *testing.T) {
	h := shopHours(t)
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"from":"2026-08-10"`)) || !bytes.Contains(b, []byte(`"07:00-12:30"`)) {
		t.Errorf("JSON is not in the readable form: %s", b)
	}
	var back Hours
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if !bytes.Equal(b, b2) {
		t.Errorf("round trip changed the hours:\n%s\n%s", b, b2)
	}
}

func testOperator(t *testing.T) *Operator {
	return &Operator{
		ID: "op-1", LegalName: "Edicola Rossi di Mario Rossi", PartitaIVA: "01199250158", Category: Edicola,
		Address: Address{Street: "Corso Buenos Aires", Number: "33", CAP: "20124", City: "Milano", Lat: 45.4781, Lon: 9.2096},
		Hours:   shopHours(t),
		Agreement: &Agreement{Signed: date("2026-01-15"), Expires: date("2028-01-14"), FeeCents: 200,
			Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia}},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Operator)
		err    string
	}{
		{"valid", func(*Operator) {}, ""},
		{"no legal name", func(o *Operator) { o.LegalName = " " }, "legal name"},
		{"bad partita IVA", func(o *Operator) { o.PartitaIVA = "01199250157" }, "check digit"},
		{"bad category", func(o *Operator) { o.Category = "bar" }, "not a category"},
		{"no coordinates", func(o *Operator) { o.Address.Lat, o.Address.Lon = 0, 0 }, "no coordinates"},
		{"latitude out of range", func(o *Operator) { o.Address.Lat = 95 }, "latitude"},
		{"fee over the cap", func(o *Operator) { o.Agreement.FeeCents = 201 }, "exceeds the city's cap of 2,00 EUR"},
		{"negative fee", func(o *Operator) { o.Agreement.FeeCents = -1 }, "negative"},
		{"unknown type", func(o *Operator) { o.Agreement.Types = []certificate.Type{"patente"} }, "not a certificate type"},
		{"no type", func(o *Operator) { o.Agreement.Types = nil }, "no certificate type"},
		{"expiry before signing", func(o *Operator) { o.Agreement.Expires = date("2025-01-01") }, "not after"},
		{"office with agreement", func(o *Operator) { o.Category = RegistryOffice }, "no agreement"},
	}
	for _, tt := range tests {
		o := testOperator(t)
		tt.change(o)
		err := o.Validate(Policy{})
		if tt.err == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid mentioning %q", tt.name, err, tt.err)
		}
	}
	// A city with a lower cap.
	o := testOperator(t)
	if err := o.Validate(Policy{FeeCapCents: 150}); err == nil {
		t.Error("a 2.00 EUR fee passed a 1.50 EUR cap")
	}
}

func TestLifecycle(t *testing.T) {
	at := rome("2026-03-01 10:00")
	type step struct {
		to     Status
		reason string
		err    string // "" when allowed
	}
	tests := []struct {
		name  string
		setup func(*Operator)
		steps []step
	}{
		{"happy path", nil, []step{{Approved, "", ""}, {Active, "", ""}, {Suspended, "unpaid fees", ""}, {Active, "fees paid", ""}, {Revoked, "closed the shop", ""}}},
		{"cannot skip approval", nil, []step{{Active, "", "cannot become active; allowed next: approved, revoked"}}},
		{"cannot suspend an application", nil, []step{{Suspended, "x", "cannot become suspended"}}},
		{"suspension needs a reason", nil, []step{{Approved, "", ""}, {Active, "", ""}, {Suspended, "", "give a reason"}}},
		{"revocation is final", nil, []step{{Revoked, "fraud", ""}, {Active, "", "which is final"}}},
		{"same status", nil, []step{{Approved, "", ""}, {Approved, "", "already approved"}}},
		{"no agreement", func(o *Operator) { o.Agreement = nil }, []step{{Approved, "", "no agreement"}}},
		{"agreement not yet signed", func(o *Operator) { o.Agreement.Signed = date("2026-06-01") }, []step{{Approved, "", "not on 2026-03-01"}}},
		{"office needs no agreement", func(o *Operator) { o.Agreement = nil; o.Category = RegistryOffice }, []step{{Approved, "", ""}, {Active, "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOperator(t)
			if tt.setup != nil {
				tt.setup(o)
			}
			if err := o.Apply(Policy{}, at, "ufficio convenzioni"); err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				before := len(o.History)
				was := o.Status
				err := o.Transition(s.to, at.Add(time.Duration(i+1)*time.Hour), "m.bianchi", s.reason)
				if s.err != "" {
					if err == nil || !strings.Contains(err.Error(), s.err) || !errors.Is(err, ErrTransition) {
						t.Fatalf("step %d → %s: error %v, want ErrTransition mentioning %q", i, s.to, err, s.err)
					}
					if o.Status != was || len(o.History) != before {
						t.Fatalf("a refused change altered the operator: %s, %d entries", o.Status, len(o.History))
					}
					return
				}
				if err != nil {
					t.Fatalf("step %d → %s: %v", i, s.to, err)
				}
				last := o.History[len(o.History)-1]
				if o.Status != s.to || last.From != was || last.To != s.to || last.By != "m.bianchi" || last.Reason != s.reason {
					t.Fatalf("step %d: status %s, history %+v", i, o.Status, last)
				}
			}
		})
	}
	if err := testOperator(t).Transition(Approved, at, "", ""); err == nil {
		t.Error("an anonymous change was accepted")
	}
}

func TestMayIssue(t *testing.T) {
	o := testOperator(t)
	o.Status = Active
	if err := o.MayIssue(rome("2027-05-01 10:00")); err != nil {
		t.Error(err)
	}
	if err := o.MayIssue(rome("2028-01-15 10:00")); err == nil {
		t.Error("issued after the agreement expired")
	}
	o.Status = Suspended
	if err := o.MayIssue(rome("2027-05-01 10:00")); err == nil {
		t.Error("a suspended operator may issue")
	}
}

func TestParseWeek(t *testing.T) {
	w, err := ParseWeek("mon-fri 07:00-12:30 15:00-19:00; sab 07:30-13:00")
	if err != nil {
		t.Fatal(err)
	}
	if got := w.On(time.Wednesday); len(got) != 2 || got[1].String() != "15:00-19:00" {
		t.Errorf("wednesday %v", got)
	}
	if got := w.On(time.Saturday); len(got) != 1 || got[0].String() != "07:30-13:00" {
		t.Errorf("saturday %v", got)
	}
	if len(w.On(time.Sunday)) != 0 {
		t.Error("sunday open")
	}
	if w, err := ParseWeek("mon-sun 06:00-24:00"); err != nil || len(w.On(time.Sunday)) != 1 {
		t.Errorf("whole week: %v %v", w, err)
	}
	for _, bad := range []string{"fri-mon 08:00-12:00", "mon", "xyz 08:00-12:00", "mon 08:00-12:00 11:00-13:00", "mon 8-12"} {
		if _, err := ParseWeek(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
