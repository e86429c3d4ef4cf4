package city

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/retention"
)

var at = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func shop(id string, fee int, status operators.Status, expires string) *operators.Operator {
	exp, err := registry.ParseDate(expires)
	if err != nil {
		panic(err)
	}
	return &operators.Operator{ID: id, LegalName: "Shop " + id, Status: status,
		Agreement: &operators.Agreement{Signed: registry.DateOf(at.AddDate(-1, 0, 0)), Expires: exp, FeeCents: fee}}
}

func ptr[T any](v T) *T { return &v }

func TestApply(t *testing.T) {
	ops := []*operators.Operator{
		shop("op-0002", 200, operators.Active, "2029-01-01"),
		shop("op-0001", 180, operators.Suspended, "2029-01-01"),
		shop("op-0003", 250, operators.Revoked, "2029-01-01"),            // revoked: its fee no longer counts
		shop("op-0004", 250, operators.Active, "2026-11-22"),             // expired yesterday
		{ID: "op-0005", LegalName: "Anagrafe", Status: operators.Active}, // registry office, no agreement
	}
	tests := []struct {
		name    string
		edit    Edit
		by      string
		err     string   // substring; "" for success
		names   []string // operators the refusal must name
		history string   // substring of the recorded change
	}{
		{"cap above every fee", Edit{FeeCapCents: ptr(220)}, "staff:anna", "", nil, "fee cap: 2,00 EUR → 2,20 EUR"},
		{"cap equal to the highest fee", Edit{FeeCapCents: ptr(180 + 20), Office: ptr("Anagrafe")}, "staff:anna", "", nil, ""},
		{"cap below two agreements", Edit{FeeCapCents: ptr(150)}, "staff:anna", "lower those agreements' fees first", []string{"op-0001 Shop op-0001 (1,80 EUR)", "op-0002"}, ""},
		{"zero cap", Edit{FeeCapCents: ptr(0)}, "staff:anna", "between 0,01", nil, ""},
		{"nobody", Edit{FeeCapCents: ptr(220)}, " ", "say who", nil, ""},
		{"nothing", Edit{}, "staff:anna", "nothing to change", nil, ""},
		{"office and address", Edit{Office: ptr("Anagrafe centrale"), Address: ptr("Via Larga 12, 20122 Milano")}, "cli:root", "", nil, "address: (none) → Via Larga 12"},
		{"public URL", Edit{PublicURL: ptr("https://certificati.example.it/")}, "cli:root", "", nil, "public URL: (none) → https://certificati.example.it"},
		{"public URL with a query", Edit{PublicURL: ptr("https://x.example/?a=1")}, "cli:root", "not a public URL", nil, ""},
		{"office on two lines", Edit{Office: ptr("a\nb")}, "cli:root", "one line", nil, ""},
		{"bad comune", Edit{Belfiore: ptr("F20")}, "cli:root", "Belfiore", nil, ""},
		{"patron saint", Edit{PatronSaint: &operators.MonthDay{Month: 6, Day: 24, Name: "San Giovanni"}}, "cli:root", "", nil, "patron saint: 12-07 Sant'Ambrogio → 06-24 San Giovanni"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			err := c.Apply(tt.edit, Milan(), ops, at, tt.by)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.history != "" && (len(c.History) == 0 || !strings.Contains(c.History[len(c.History)-1].What, tt.history)) {
					t.Errorf("history %+v lacks %q", c.History, tt.history)
				}
				for _, h := range c.History {
					if h.By != tt.by || !h.At.Equal(at) {
						t.Errorf("change %+v not attributed to %s at %s", h, tt.by, at)
					}
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			}
			for _, n := range tt.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error does not name %q: %v", n, err)
				}
			}
			for _, n := range []string{"op-0003", "op-0004", "op-0005"} {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error names %s, whose agreement does not count: %v", n, err)
				}
			}
			if len(c.History) != 0 {
				t.Errorf("a refused edit left history %+v", c.History)
			}
		})
	}
}

func TestSettingTheDefaultIsNoChange(t *testing.T) {
	var c Config
	err := c.Apply(Edit{FeeCapCents: ptr(200)}, Milan(), nil, at, "x")
	if err == nil || !strings.Contains(err.Error(), "already hold") {
		t.Errorf("setting the default cap: %v", err)
	}
}

func TestEffectiveAndPolicy(t *testing.T) {
	defaults := Milan()
	defaults.PublicURL = "http://127.0.0.1:8080"
	c := Config{FeeCapCents: 150, Address: "Via Larga 12"}
	e := c.Effective(defaults)
	if e.FeeCapCents != 150 || e.Belfiore != "F205" || e.PublicURL != defaults.PublicURL || e.Office != DefaultOffice || e.Address != "Via Larga 12" {
		t.Errorf("effective %+v", e)
	}
	p := e.Policy()
	if p.FeeCapCents != 150 {
		t.Errorf("policy cap %d", p.FeeCapCents)
	}
	if name, ok := p.Calendar.Holiday(registry.Date{Year: 2026, Month: 12, Day: 7}); !ok || name != "Sant'Ambrogio" {
		t.Errorf("7 December: %q %v", name, ok)
	}
	if e.CertificatePolicy().ServiceCapCents != 150 {
		t.Errorf("certificate policy %+v", e.CertificatePolicy())
	}
	iss, err := e.Issuer(places.Default())
	if err != nil {
		t.Fatal(err)
	}
	if iss.Comune != "Comune di Milano" || iss.Address != "Via Larga 12" || iss.Office != DefaultOffice {
		t.Errorf("issuer %+v", iss)
	}
	if _, err := (Config{Belfiore: "Z999"}).Issuer(places.Default()); err == nil {
		t.Error("an unknown comune gave an issuer")
	}
}

func TestParseMonthDay(t *testing.T) {
	tests := []struct {
		in   string
		want string // FormatMonthDay, or "" for an error
	}{
		{"12-07", "12-07 Santo patrono"},
		{"12-07 Sant'Ambrogio", "12-07 Sant'Ambrogio"},
		{"02-29", "02-29 Santo patrono"},
		{"02-30", ""},
		{"13-01", ""},
		{"7-12", ""},
		{"12/07", ""},
		{"", ""},
	}
	for _, tt := range tests {
		md, err := ParseMonthDay(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%q: parsed as %+v", tt.in, md)
			}
			continue
		}
		if err != nil || FormatMonthDay(md) != tt.want {
			t.Errorf("%q: %q %v, want %q", tt.in, FormatMonthDay(md), err, tt.want)
		}
	}
}

// TestOfflineLimits: the city sets what a kiosk may take offline, one
// limit at a time; unset ones stand for the defaults; the change is in the
// history; nonsense (a sale's cap above the total's, zero, out of bounds) is
// refused; the operators' policy carries the limits in force to the kiosks.
func TestOfflineLimits(t *testing.T) {
	defaults := Milan()
	var c Config
	if got := c.Effective(defaults).Policy().Offline; got != operators.DefaultOfflineLimits {
		t.Errorf("unset: %+v, want the defaults %+v", got, operators.DefaultOfflineLimits)
	}
	if err := c.Apply(Edit{OfflineOperationCents: ptr(int64(2500)), OfflineAgeHours: ptr(12)}, defaults, nil, at, "staff:anna"); err != nil {
		t.Fatal(err)
	}
	got := c.Effective(defaults).Policy().Offline
	want := operators.OfflineLimits{OperationCents: 2500, TotalCents: operators.DefaultOfflineLimits.TotalCents, Count: operators.DefaultOfflineLimits.Count, AgeHours: 12}
	if got != want {
		t.Errorf("after the edit: %+v, want %+v", got, want)
	}
	var hist []string
	for _, h := range c.History {
		hist = append(hist, h.What)
	}
	if h := strings.Join(hist, "; "); !strings.Contains(h, "offline cap per sale: 50,00 EUR → 25,00 EUR") || !strings.Contains(h, "offline age limit: 24 h → 12 h") {
		t.Errorf("history %q", h)
	}
	for name, e := range map[string]Edit{
		"a sale's cap above the total": {OfflineOperationCents: ptr(int64(60000))},
		"zero total":                   {OfflineTotalCents: ptr(int64(0))},
		"negative count":               {OfflineCount: ptr(-3)},
		"a month":                      {OfflineAgeHours: ptr(24 * 30)},
		"a million euros a sale":       {OfflineOperationCents: ptr(int64(100000000)), OfflineTotalCents: ptr(int64(100000000))},
	} {
		before := c
		if err := c.Apply(e, defaults, nil, at, "staff:anna"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
		if c.Offline != before.Offline {
			t.Errorf("%s: a refused edit changed the limits", name)
		}
	}
}

// TestRetentionSettings: records are kept 36 months and PDFs 30 days
// unless the city says otherwise; it may keep records longer, never under
// the law's 36 months; a PDF window must be at least a day; each change is
// in the history, and a refused one changes nothing.
func TestRetentionSettings(t *testing.T) {
	defaults := Milan()
	var c Config
	if got := c.Effective(defaults).Retention; got != (retention.Policy{RecordsMonths: 36, PDFDays: 30}) {
		t.Errorf("unset: %+v", got)
	}
	if err := c.Apply(Edit{RetentionRecordsMonths: ptr(48), RetentionPDFDays: ptr(14)}, defaults, nil, at, "staff:anna"); err != nil {
		t.Fatal(err)
	}
	if got := c.Effective(defaults).Retention; got != (retention.Policy{RecordsMonths: 48, PDFDays: 14}) {
		t.Errorf("after the edit: %+v", got)
	}
	var hist []string
	for _, h := range c.History {
		hist = append(hist, h.What)
	}
	if h := strings.Join(hist, "; "); h != "records kept: 36 months → 48 months; PDF re-download window: 30 days → 14 days" {
		t.Errorf("history %q", h)
	}
	for name, e := range map[string]Edit{
		"under the law's 36 months": {RetentionRecordsMonths: ptr(24)},
		"zero months":               {RetentionRecordsMonths: ptr(0)},
		"a century":                 {RetentionRecordsMonths: ptr(1200)},
		"no PDF window":             {RetentionPDFDays: ptr(0)},
		"two years of PDFs":         {RetentionPDFDays: ptr(730)},
	} {
		before := c
		if err := c.Apply(e, defaults, nil, at, "staff:anna"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
		if c.Retention != before.Retention || len(c.History) != len(before.History) {
			t.Errorf("%s: a refused edit changed the settings", name)
		}
	}
}
func TestLimits(t *testing.T) {
	defaults := Milan()
	var c Config
	if got := c.Effective(defaults).Limits; got != limits.Defaults() {
		t.Errorf("unset: %+v, want the defaults", got)
	}
	if err := c.Apply(Edit{Limits: map[string]int{"device-rate": 5, "flood-suspend": 30}}, defaults, nil, at, "staff:anna"); err != nil {
		t.Fatal(err)
	}
	got := c.Effective(defaults).Limits
	if got.DeviceRate != 5 || got.FloodSuspend != 30 || got.ShopRate != limits.Defaults().ShopRate {
		t.Errorf("after the edit: %+v", got)
	}
	var hist []string
	for _, h := range c.History {
		hist = append(hist, h.What)
	}
	if h := strings.Join(hist, "; "); !strings.Contains(h, "limit device-rate: 20 → 5") || !strings.Contains(h, "limit flood-suspend: 50 → 30") {
		t.Errorf("history %q", h)
	}
	for name, e := range map[string]Edit{
		"an unknown limit":           {Limits: map[string]int{"speed": 3}},
		"a zero rate":                {Limits: map[string]int{"device-rate": 0}},
		"suspension below the alert": {Limits: map[string]int{"flood-alert": 40}},
		"a percentage above 100":     {Limits: map[string]int{"refusal-suspend": 120}},
		"a night that never ends":    {Limits: map[string]int{"night-from": 6}},
	} {
		before := c.Limits
		if err := c.Apply(e, defaults, nil, at, "staff:anna"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
		if c.Limits != before {
			t.Errorf("%s: a refused edit changed the limits", name)
		}
	}
}

// TestBirthMarriageExempt: off unless the city turns it on, as ANPR issues
// these certificates in bollo; turning it on is recorded and reaches the
// certificates' policy.
func TestBirthMarriageExempt(t *testing.T) {
	var c Config
	if c.Effective(Milan()).CertificatePolicy().LawExemption {
		t.Fatal("the stato civile exemption is on by default")
	}
	if err := c.Apply(Edit{BirthMarriageExempt: ptr(false)}, Milan(), nil, at, "x"); err == nil {
		t.Error("turning off what is off is a change")
	}
	if err := c.Apply(Edit{BirthMarriageExempt: ptr(true)}, Milan(), nil, at, "m.bianchi"); err != nil {
		t.Fatal(err)
	}
	if !c.Effective(Milan()).CertificatePolicy().LawExemption {
		t.Error("turned on, the policy still charges bollo")
	}
	if n := len(c.History); n != 1 || c.History[n-1].What != "birth, marriage and civil union exemption: off → on" {
		t.Errorf("history %+v", c.History)
	}
}

func TestBolloAuthorisation(t *testing.T) {
	var c Config
	if err := c.Apply(Edit{BolloAuthorisation: ptr("N. 123/2019 del 15/01/2019")}, Milan(), nil, at, "m.bianchi"); err != nil {
		t.Fatal(err)
	}
	if got := c.Effective(Milan()).CertificatePolicy().BolloAuthorisation; got != "n. 123/2019 del 15/01/2019" {
		t.Errorf("policy authorisation %q", got)
	}
	if n := len(c.History); n != 1 || c.History[0].What != "bollo authorisation: (none) → n. 123/2019 del 15/01/2019" {
		t.Errorf("history %+v", c.History)
	}
	for _, bad := range []string{"123/2019", "n. 123 del 31/02/2019", "n.  del 15/01/2019", "n. 1 2 del 15/01/2019", "n. 1 del 15/01/2019\nx"} {
		if err := c.Apply(Edit{BolloAuthorisation: ptr(bad)}, Milan(), nil, at, "x"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
