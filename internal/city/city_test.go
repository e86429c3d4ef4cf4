package city

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
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

// TestDiritti: diritti are set per channel and recorded as the history
// writes amounts; a channel not set keeps the national 0,52/0,26; only
// self-service may charge none, and amounts no city could mean are refused
// with the reason.
func TestDiritti(t *testing.T) {
	var c Config
	set := map[certificate.Channel]fees.Rates{certificate.Counter: {InBolloCents: 60, ExemptCents: 30}, certificate.SelfService: {}}
	if err := c.Apply(Edit{Diritti: set}, Milan(), nil, at, "m.bianchi"); err != nil {
		t.Fatal(err)
	}
	pol := c.Effective(Milan()).CertificatePolicy()
	if got := pol.DirittiOn(certificate.Counter); got != (fees.Rates{InBolloCents: 60, ExemptCents: 30}) {
		t.Errorf("counter %+v", got)
	}
	if got := pol.DirittiOn(certificate.SelfService); got != (fees.Rates{}) {
		t.Errorf("self-service %+v", got)
	}
	if got := pol.DirittiOn(certificate.Office); got != fees.DefaultRates {
		t.Errorf("office, never set: %+v", got)
	}
	var what []string
	for _, h := range c.History {
		what = append(what, h.What)
	}
	want := []string{"diritti counter: 0,52/0,26 EUR → 0,60/0,30 EUR", "diritti self_service: 0,52/0,26 EUR → 0,00/0,00 EUR"}
	if strings.Join(what, "|") != strings.Join(want, "|") {
		t.Errorf("history %q, want %q", what, want)
	}
	// Setting the office's to the national amounts it already charges is no change.
	if err := c.Apply(Edit{Diritti: map[certificate.Channel]fees.Rates{certificate.Office: fees.DefaultRates}}, Milan(), nil, at, "x"); err == nil || !strings.Contains(err.Error(), "already hold") {
		t.Errorf("no change: %v", err)
	}
	for _, bad := range []struct {
		ch   certificate.Channel
		r    fees.Rates
		want string
	}{
		{certificate.Counter, fees.Rates{}, "only the self-service kiosk may charge no diritti"},
		{certificate.Office, fees.Rates{InBolloCents: 0, ExemptCents: 0}, "only the self-service kiosk"},
		{certificate.Counter, fees.Rates{InBolloCents: 52, ExemptCents: 60}, "cannot be above those in bollo"},
		{certificate.Counter, fees.Rates{InBolloCents: 1001, ExemptCents: 26}, "between 0,00 and 10,00 EUR"},
		{certificate.SelfService, fees.Rates{InBolloCents: -1}, "between 0,00"},
		{"kiosk", fees.Rates{InBolloCents: 52, ExemptCents: 26}, "not a channel"},
	} {
		before := c
		err := c.Apply(Edit{Diritti: map[certificate.Channel]fees.Rates{bad.ch: bad.r}}, Milan(), nil, at, "x")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %+v: %v, want %q", bad.ch, bad.r, err, bad.want)
		}
		if len(c.History) != len(before.History) || c.Diritti[certificate.Counter] != before.Diritti[certificate.Counter] {
			t.Errorf("%s %+v: a refused edit changed the settings", bad.ch, bad.r)
		}
	}
}

func TestParseRates(t *testing.T) {
	for in, want := range map[string]fees.Rates{
		"0,60/0,30": {InBolloCents: 60, ExemptCents: 30}, "0.6/0.3 EUR": {InBolloCents: 60, ExemptCents: 30},
		"1/0,5": {InBolloCents: 100, ExemptCents: 50}, "0": {}, " 0,52 / 0,26 ": {InBolloCents: 52, ExemptCents: 26},
	} {
		if got, err := ParseRates(in); err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0,52", "a/b", "0,521/0,26", "-1/0", "0,52/", "1e3/1"} {
		if _, err := ParseRates(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestCertificateTexts: the officer, delegation, seal rule and register
// codes are set, recorded, reach the issuer, and malformed codes are
// refused; an empty value clears a setting.
func TestCertificateTexts(t *testing.T) {
	var c Config
	e := Edit{OfficerName: ptr(" Maria Rossi "), Delegation: ptr("decreto sindacale n. 12 del 03/02/2025"),
		SealRule: ptr("art. 20 D.Lgs. 82/2005 e art. 35 Reg. UE 910/2014"), IPACode: ptr("C_F205"), AOOCode: ptr("A1B2C3D"), RegisterCode: ptr("CERT")}
	if err := c.Apply(e, Milan(), nil, at, "m.bianchi"); err != nil {
		t.Fatal(err)
	}
	eff := c.Effective(Milan())
	if eff.OfficerName != "Maria Rossi" || eff.IPACode != "c_f205" || eff.AOOCode != "A1B2C3D" || eff.RegisterCode != "CERT" {
		t.Errorf("effective %+v", eff)
	}
	var what []string
	for _, h := range c.History {
		what = append(what, h.What)
	}
	for _, w := range []string{"officer: (none) → Maria Rossi", "delegation: (none) → decreto sindacale n. 12 del 03/02/2025", "IPA code: (none) → c_f205", "AOO code: (none) → A1B2C3D", "register code: (none) → CERT"} {
		if !slices.Contains(what, w) {
			t.Errorf("history %q lacks %q", what, w)
		}
	}
	for _, bad := range []struct {
		e    Edit
		want string
	}{
		{Edit{IPACode: ptr("c f205")}, "not an Indice PA code"},
		{Edit{IPACode: ptr("_f205")}, "not an Indice PA code"},
		{Edit{IPACode: ptr("c_f205_è")}, "not an Indice PA code"},
		{Edit{AOOCode: ptr("AOO MILANO")}, "not an AOO code"},
		{Edit{AOOCode: ptr("A234567890123456X")}, "not an AOO code"},
		{Edit{RegisterCode: ptr("REG/CERT")}, "not a register code"},
		{Edit{OfficerName: ptr("Maria\nRossi")}, "one line"},
		{Edit{SealRule: ptr(strings.Repeat("x", 201))}, "more than 200"},
	} {
		if err := c.Apply(bad.e, Milan(), nil, at, "x"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v, want %q", bad.e, err, bad.want)
		}
	}
	// The three register codes go together: a number carries all of them
	// (protocol.Register.Check), so clearing one alone is refused and
	// clearing all three works.
	if err := c.Apply(Edit{AOOCode: ptr("")}, Milan(), nil, at, "x"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "AOO code is not set") || c.AOOCode != "A1B2C3D" {
		t.Errorf("clearing the AOO alone: %v %q", err, c.AOOCode)
	}
	if err := c.Apply(Edit{IPACode: ptr(""), AOOCode: ptr(""), RegisterCode: ptr("")}, Milan(), nil, at, "x"); err != nil || c.Effective(Milan()).AOOCode != "" {
		t.Errorf("clearing the register codes: %v %q", err, c.AOOCode)
	}
	if got := c.History[len(c.History)-2].What; got != "AOO code: A1B2C3D → (none)" {
		t.Errorf("clearing recorded as %q", got)
	}
	var d Config
	if err := d.Apply(Edit{IPACode: ptr("c_f205")}, Milan(), nil, at, "x"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "set all three or none") {
		t.Errorf("the IPA code alone: %v", err)
	}
}

// TestRefusalReasons: each refusal the console shows carries its reason
// code and the values its sentence names, for the console's catalogue.
func TestRefusalReasons(t *testing.T) {
	for _, c := range []struct {
		e      Edit
		reason string
		args   []string
	}{
		{Edit{Diritti: map[certificate.Channel]fees.Rates{certificate.Counter: {}}}, ReasonDirittiNone, []string{"counter"}},
		{Edit{Diritti: map[certificate.Channel]fees.Rates{certificate.Office: {InBolloCents: 52, ExemptCents: 60}}}, ReasonDirittiExemptAbove, []string{"office", "0,60 EUR", "0,52 EUR"}},
		{Edit{Diritti: map[certificate.Channel]fees.Rates{certificate.SelfService: {InBolloCents: 2000}}}, ReasonDirittiRange, []string{"self_service", "10,00 EUR"}},
		{Edit{IPACode: ptr("comune milano")}, ReasonIPACode, []string{"comune milano"}},
		{Edit{AOOCode: ptr("A/1")}, ReasonAOOCode, []string{"A/1"}},
		{Edit{RegisterCode: ptr("R 1")}, ReasonRegisterCode, []string{"R 1"}},
		{Edit{BolloAuthorisation: ptr("123")}, ReasonBolloAuthorisation, []string{"123"}},
		{Edit{Delegation: ptr(strings.Repeat("d", 161))}, ReasonTextTooLong, []string{"delegation", "160"}},
		{Edit{SealRule: ptr("a\nb")}, ReasonTextLines, []string{"seal_rule"}},
		{Edit{IPACode: ptr("c_f205"), RegisterCode: ptr("CERT")}, ReasonRegisterPartial, []string{"aoo"}},
	} {
		var cfg Config
		err := cfg.Apply(c.e, Milan(), nil, at, "x")
		var ce *Error
		if !errors.As(err, &ce) || !errors.Is(err, ErrInvalid) || ce.Reason != c.reason || !slices.Equal(ce.Args, c.args) {
			t.Errorf("%+v: %#v, want %s %q", c.e, err, c.reason, c.args)
		}
	}
}
