// Package city is what a comune sets for its programme and may change while
// the hub runs: the cap on the operators' service fee, the patron saint's
// day that joins the national holidays, the office that issues certificates
// and the hub's public address printed in their QR codes.
//
// A Config holds only what staff set; every other field falls back to the
// hub's defaults (Effective), so a field never set follows the defaults as
// they change. Each change is recorded with who made it and when.
//
// It is pure domain: no storage, no HTTP; time is a parameter.
package city

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/retention"
)

// ErrInvalid is wrapped by the errors of bad settings.
var ErrInvalid = errors.New("invalid city setting")

// Error is a refused setting with a reason code and the values its
// sentence names, so the console can say it in Italian or English from
// its catalogue; Error() is the English sentence the command line prints.
// It wraps ErrInvalid.
type Error struct {
	Reason string
	Args   []string
	msg    string
}

func (e *Error) Error() string { return ErrInvalid.Error() + ": " + e.msg }
func (e *Error) Unwrap() error { return ErrInvalid }

// Reasons of Error. The channel and field arguments are keys: a channel
// (certificate.Channel) and the setting's name as certificateTexts and
// checkLine's callers write it (officer, delegation, seal_rule, office,
// address, bollo_authorisation).
const (
	ReasonDirittiRange       = "diritti_out_of_range"        // channel, most
	ReasonDirittiExemptAbove = "diritti_exempt_above"        // channel, exempt, in bollo
	ReasonDirittiNone        = "diritti_none_not_allowed"    // channel
	ReasonDirittiChannel     = "diritti_unknown_channel"     // channel
	ReasonIPACode            = "ipa_code_invalid"            // value
	ReasonAOOCode            = "aoo_code_invalid"            // value
	ReasonRegisterCode       = "register_code_invalid"       // value
	ReasonBolloAuthorisation = "bollo_authorisation_invalid" // value
	ReasonTextTooLong        = "setting_too_long"            // field, most characters
	ReasonTextLines          = "setting_not_one_line"        // field
	// ReasonRegisterPartial: the IPA, AOO and register codes are set
	// together or not at all (DPCM 3.12.2013 art. 9); the field is the
	// missing one (ipa, aoo, register).
	ReasonRegisterPartial = "setting_register_partial" // field
)

func refuse(reason string, args []string, format string, a ...any) error {
	return &Error{Reason: reason, Args: args, msg: fmt.Sprintf(format, a...)}
}

// DefaultOffice is the issuing office when none is set.
const DefaultOffice = "Servizi Demografici — Ufficio Anagrafe"

// MaxFeeCapCents bounds the cap: a fee above 10 EUR per certificate is a
// typing error, not a policy.
const MaxFeeCapCents = 1000

// Config is the city's settings. Empty or zero fields are unset.
type Config struct {
	Belfiore    string             `json:"belfiore,omitempty"`      // the certifying comune's code
	Office      string             `json:"office,omitempty"`        // issuing office, as printed
	Address     string             `json:"address,omitempty"`       // the office's address, as printed
	PublicURL   string             `json:"public_url,omitempty"`    // base of every certificate's verification link
	FeeCapCents int                `json:"fee_cap_cents,omitempty"` // cap on an agreement's service fee
	PatronSaint operators.MonthDay `json:"patron_saint,omitzero"`   // local holiday
	// Offline is what a kiosk may take while it cannot reach the hub:
	// caps per sale and in total, how many sales and for how long. Each
	// kiosk receives them with its agreement.
	Offline operators.OfflineLimits `json:"offline,omitzero"`
	// Retention is how long issuance records, their audit entries and
	// the issued PDFs are kept (see package retention).
	Retention retention.Policy `json:"retention,omitzero"`
	// Limits are the thresholds of the rate limits, daily caps and
	// anomaly flags the hub applies to shops' devices (package limits).
	Limits limits.Settings `json:"limits,omitzero"`
	// BirthMarriageExempt applies the exemption of art. 7, comma 5,
	// L. 405/1990 to the birth, marriage and civil union certificates,
	// waiving bollo and diritti; nil or false issues them in bollo, as
	// ANPR does.
	BirthMarriageExempt *bool `json:"birth_marriage_exempt,omitempty"`
	// BolloAuthorisation is the Agenzia delle Entrate's authorisation to
	// pay the bollo virtually, "n. 123/2019 del 15/01/2019", printed on
	// every certificate in bollo (art. 15 DPR 642/1972).
	BolloAuthorisation string `json:"bollo_authorisation,omitempty"`
	// Diritti are the diritti di segreteria per channel; a channel not
	// set is charged fees.DefaultRates (a self-service kiosk may be set to
	// charge none).
	Diritti map[certificate.Channel]fees.Rates `json:"diritti,omitempty"`
	// OfficerName is the registry officer who certifies by delegation of
	// the mayor, printed on every certificate ("Mario Rossi"), and
	// Delegation the act that delegates them ("decreto sindacale n. 12 del
	// 03/02/2025"); SealRule is the rule under which the comune's
	// electronic seal replaces the handwritten signature, as printed.
	OfficerName string `json:"officer_name,omitempty"`
	Delegation  string `json:"delegation,omitempty"`
	SealRule    string `json:"seal_rule,omitempty"`
	// IPACode, AOOCode and RegisterCode name the certificates' own
	// register (art. 53 c. 5 DPR 445/2000): the administration's code in
	// the Indice PA ("c_f205"), its area organizzativa omogenea and the
	// register's identifier; they are part of every certificate number.
	IPACode      string   `json:"ipa_code,omitempty"`
	AOOCode      string   `json:"aoo_code,omitempty"`
	RegisterCode string   `json:"register_code,omitempty"`
	History      []Change `json:"history,omitempty"`
}

// Change is one recorded edit.
type Change struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	What string    `json:"what"` // "fee cap: 2,00 EUR → 1,50 EUR"
}

// Milan is the programme's model: the defaults of a hub given no settings
// (the comune code and public URL come from the hub's own flags).
func Milan() Config {
	return Config{
		Belfiore: "F205", Office: DefaultOffice, FeeCapCents: operators.DefaultFeeCapCents,
		PatronSaint: operators.MonthDay{Month: time.December, Day: 7, Name: "Sant'Ambrogio"},
		Offline:     operators.DefaultOfflineLimits,
		Retention:   retention.Defaults,
		Limits:      limits.Defaults(),
	}
}

// Effective is c with every unset field taken from defaults.
func (c Config) Effective(defaults Config) Config {
	e := c
	if e.Belfiore == "" {
		e.Belfiore = defaults.Belfiore
	}
	if e.Office == "" {
		e.Office = defaults.Office
	}
	if e.Address == "" {
		e.Address = defaults.Address
	}
	if e.PublicURL == "" {
		e.PublicURL = defaults.PublicURL
	}
	if e.FeeCapCents == 0 {
		e.FeeCapCents = defaults.FeeCapCents
	}
	if e.PatronSaint.Month == 0 {
		e.PatronSaint = defaults.PatronSaint
	}
	if e.BolloAuthorisation == "" {
		e.BolloAuthorisation = defaults.BolloAuthorisation
	}
	if e.BirthMarriageExempt == nil {
		e.BirthMarriageExempt = defaults.BirthMarriageExempt
	}
	for _, f := range []struct{ to, from *string }{
		{&e.OfficerName, &defaults.OfficerName}, {&e.Delegation, &defaults.Delegation}, {&e.SealRule, &defaults.SealRule},
		{&e.IPACode, &defaults.IPACode}, {&e.AOOCode, &defaults.AOOCode}, {&e.RegisterCode, &defaults.RegisterCode},
	} {
		if *f.to == "" {
			*f.to = *f.from
		}
	}
	if len(defaults.Diritti) > 0 {
		d := make(map[certificate.Channel]fees.Rates, len(defaults.Diritti)+len(e.Diritti))
		for ch, r := range defaults.Diritti {
			d[ch] = r
		}
		for ch, r := range e.Diritti {
			d[ch] = r
		}
		e.Diritti = d
	}
	e.Offline = e.Offline.Or(defaults.Offline)
	e.Retention = e.Retention.Or(defaults.Retention)
	e.Limits = e.Limits.Or(defaults.Limits).Effective()
	return e
}

// Policy is the operators' policy under c: fee cap and holidays.
func (c Config) Policy() operators.Policy {
	p := operators.Policy{FeeCapCents: c.FeeCapCents, Offline: c.Offline.Effective()}
	if c.PatronSaint.Month != 0 {
		p.Calendar.Local = []operators.MonthDay{c.PatronSaint}
	}
	return p
}

// CertificatePolicy is the fee policy certificates are charged under.
func (c Config) CertificatePolicy() certificate.Policy {
	return certificate.Policy{ServiceCapCents: int64(c.FeeCapCents), LawExemption: c.LawExempt(), BolloAuthorisation: c.BolloAuthorisation, Diritti: c.Diritti}
}

// LawExempt reports whether the city applies the stato civile exemption to
// birth, marriage and civil union certificates (off unless set).
func (c Config) LawExempt() bool { return c.BirthMarriageExempt != nil && *c.BirthMarriageExempt }

// OnOff writes a switch as the command line takes it.
func OnOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// Issuer names the certifying office after the comune's code in t.
func (c Config) Issuer(t *places.Table) (certificate.Issuer, error) {
	code := strings.ToUpper(c.Belfiore)
	p, ok := t.Lookup(code, time.Time{})
	if !ok || p.Kind != places.Comune {
		return certificate.Issuer{}, fmt.Errorf("the city code %s is not a comune in the loaded places tables", code)
	}
	name := TitleCase(p.Name)
	office := c.Office
	if office == "" {
		office = DefaultOffice
	}
	return certificate.Issuer{
		Comune: "Comune di " + name, Belfiore: code, Office: office, Address: c.Address,
		Officer: "L'Ufficiale d'Anagrafe", Place: name,
		OfficerName: c.OfficerName, Delegation: c.Delegation, SealRule: c.SealRule,
	}, nil
}

// TitleCase turns ANPR's upper-case names into "Reggio nell'Emilia".
func TitleCase(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		switch {
		case i > 0 && (w == "di" || w == "del" || w == "della" || w == "nell'emilia" || w == "e" || w == "sul" || w == "in"):
			if w == "nell'emilia" {
				words[i] = "nell'Emilia"
			}
		default:
			r := []rune(w)
			r[0] = []rune(strings.ToUpper(string(r[0])))[0]
			for j := 1; j < len(r); j++ {
				if r[j-1] == '\'' || r[j-1] == '-' {
					r[j] = []rune(strings.ToUpper(string(r[j])))[0]
				}
			}
			words[i] = string(r)
		}
	}
	return strings.Join(words, " ")
}

// Edit is a change staff ask for; nil fields stay as they are.
type Edit struct {
	Belfiore    *string
	Office      *string
	Address     *string
	PublicURL   *string
	FeeCapCents *int
	PatronSaint *operators.MonthDay
	// The offline limits, one by one (see operators.OfflineLimits).
	OfflineOperationCents *int64
	OfflineTotalCents     *int64
	OfflineCount          *int
	OfflineAgeHours       *int
	// How long records (months) and PDFs (days) are kept.
	RetentionRecordsMonths *int
	RetentionPDFDays       *int
	// Limits sets the limits named (limits.Fields) to the values given.
	Limits map[string]int
	// BirthMarriageExempt turns the stato civile exemption on or off.
	BirthMarriageExempt *bool
	// BolloAuthorisation sets the virtual bollo authorisation,
	// "n. NUMBER del DD/MM/YYYY".
	BolloAuthorisation *string
	// Diritti sets the diritti di segreteria of the channels it names.
	Diritti map[certificate.Channel]fees.Rates
	// The delegated officer, the delegation's act and the seal's rule, as
	// printed; an empty string clears the setting.
	OfficerName *string
	Delegation  *string
	SealRule    *string
	// The certificates' register: the Indice PA code, the AOO and the
	// register's identifier; an empty string clears the setting.
	IPACode      *string
	AOOCode      *string
	RegisterCode *string
}

// Empty reports whether the edit changes nothing.
func (e Edit) Empty() bool {
	return e.Belfiore == nil && e.Office == nil && e.Address == nil && e.PublicURL == nil && e.FeeCapCents == nil && e.PatronSaint == nil &&
		e.OfflineOperationCents == nil && e.OfflineTotalCents == nil && e.OfflineCount == nil && e.OfflineAgeHours == nil &&
		e.RetentionRecordsMonths == nil && e.RetentionPDFDays == nil && len(e.Limits) == 0 && e.BirthMarriageExempt == nil && e.BolloAuthorisation == nil &&
		len(e.Diritti) == 0 && e.OfficerName == nil && e.Delegation == nil && e.SealRule == nil &&
		e.IPACode == nil && e.AOOCode == nil && e.RegisterCode == nil
}

// Apply makes edit e to c, made by by at instant at, and records it.
// defaults are the values unset fields stand for, so the history shows what
// really changed. A cap below the fee of an agreement still in force among
// ops is refused, naming those operators: lowering the cap must not leave
// agreements that break it, so their fees are lowered first.
func (c *Config) Apply(e Edit, defaults Config, ops []*operators.Operator, at time.Time, by string) error {
	if strings.TrimSpace(by) == "" {
		return fmt.Errorf("%w: say who changes the city's settings", ErrInvalid)
	}
	if e.Empty() {
		return fmt.Errorf("%w: nothing to change; give at least one setting", ErrInvalid)
	}
	old := c.Effective(defaults)
	next := *c
	var what []string
	text := func(field *string, v *string, check func(string) (string, error)) error {
		if v == nil {
			return nil
		}
		s := strings.TrimSpace(*v)
		if check != nil {
			var err error
			if s, err = check(s); err != nil {
				return err
			}
		}
		*field = s
		return nil
	}
	if err := text(&next.Belfiore, e.Belfiore, checkBelfiore); err != nil {
		return err
	}
	if err := text(&next.Office, e.Office, func(s string) (string, error) { return s, checkLine("office", "office name", s, 120) }); err != nil {
		return err
	}
	if err := text(&next.Address, e.Address, func(s string) (string, error) { return s, checkLine("address", "office address", s, 200) }); err != nil {
		return err
	}
	if err := text(&next.PublicURL, e.PublicURL, CheckPublicURL); err != nil {
		return err
	}
	if e.FeeCapCents != nil {
		if err := CheckCap(*e.FeeCapCents, ops, registry.DateOf(at.In(operators.Rome))); err != nil {
			return err
		}
		next.FeeCapCents = *e.FeeCapCents
	}
	if e.PatronSaint != nil {
		if err := checkMonthDay(*e.PatronSaint); err != nil {
			return err
		}
		next.PatronSaint = *e.PatronSaint
	}
	if err := text(&next.BolloAuthorisation, e.BolloAuthorisation, CheckBolloAuthorisation); err != nil {
		return err
	}
	for _, f := range certificateTexts(&next, e) {
		if err := text(f.field, f.edit, f.check); err != nil {
			return err
		}
	}
	if err := applyDiritti(&next, e.Diritti); err != nil {
		return err
	}
	if e.BirthMarriageExempt != nil {
		on := *e.BirthMarriageExempt
		next.BirthMarriageExempt = &on
	}
	if err := applyOffline(&next.Offline, e, defaults.Offline); err != nil {
		return err
	}
	if err := applyRetention(&next.Retention, e, defaults.Retention); err != nil {
		return err
	}
	if err := applyLimits(&next.Limits, e.Limits, defaults.Limits); err != nil {
		return err
	}
	now := next.Effective(defaults)
	// A certificate number carries the three register codes together
	// (protocol.Register.Check, DPCM 3.12.2013 art. 9): with some set and
	// not the others every issuance would stop, so such a state is
	// refused here, where it would be made; set them in one command.
	if err := (protocol.Register{IPA: now.IPACode, AOO: now.AOOCode, Code: now.RegisterCode}).Check(); err != nil {
		// Which code is missing, by its field key, so the console names
		// it in the staff member's language.
		for _, f := range []struct{ key, v string }{{"ipa", now.IPACode}, {"aoo", now.AOOCode}, {"register", now.RegisterCode}} {
			if f.v == "" {
				return &Error{Reason: ReasonRegisterPartial, Args: []string{f.key}, msg: strings.TrimPrefix(err.Error(), protocol.ErrRegister.Error()+": ")}
			}
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	diff := func(name, a, b string) {
		if a != b {
			what = append(what, fmt.Sprintf("%s: %s → %s", name, orNone(a), orNone(b)))
		}
	}
	diff("comune", old.Belfiore, now.Belfiore)
	diff("office", old.Office, now.Office)
	diff("address", old.Address, now.Address)
	diff("public URL", old.PublicURL, now.PublicURL)
	if old.FeeCapCents != now.FeeCapCents {
		diff("fee cap", fees.Euro(int64(old.FeeCapCents)), fees.Euro(int64(now.FeeCapCents)))
	}
	diff("patron saint", FormatMonthDay(old.PatronSaint), FormatMonthDay(now.PatronSaint))
	diff("bollo authorisation", old.BolloAuthorisation, now.BolloAuthorisation)
	diff("birth, marriage and civil union exemption", OnOff(old.LawExempt()), OnOff(now.LawExempt()))
	for _, ch := range Channels {
		diff("diritti "+string(ch), FormatRates(old.CertificatePolicy().DirittiOn(ch)), FormatRates(now.CertificatePolicy().DirittiOn(ch)))
	}
	oldTexts, nowTexts := certificateTexts(&old, e), certificateTexts(&now, e)
	for i, f := range nowTexts {
		diff(f.name, *oldTexts[i].field, *f.field)
	}
	if old.Offline.OperationCents != now.Offline.OperationCents {
		diff("offline cap per sale", fees.Euro(old.Offline.OperationCents), fees.Euro(now.Offline.OperationCents))
	}
	if old.Offline.TotalCents != now.Offline.TotalCents {
		diff("offline total cap", fees.Euro(old.Offline.TotalCents), fees.Euro(now.Offline.TotalCents))
	}
	diff("offline sales", strconv.Itoa(old.Offline.Count), strconv.Itoa(now.Offline.Count))
	diff("offline age limit", fmt.Sprintf("%d h", old.Offline.AgeHours), fmt.Sprintf("%d h", now.Offline.AgeHours))
	diff("records kept", fmt.Sprintf("%d months", old.Retention.RecordsMonths), fmt.Sprintf("%d months", now.Retention.RecordsMonths))
	diff("PDF re-download window", fmt.Sprintf("%d days", old.Retention.PDFDays), fmt.Sprintf("%d days", now.Retention.PDFDays))
	for _, f := range limits.Fields() {
		diff("limit "+f.Name, strconv.Itoa(old.Limits.Get(f.Name)), strconv.Itoa(now.Limits.Get(f.Name)))
	}
	if len(what) == 0 {
		return fmt.Errorf("%w: the settings already hold these values", ErrInvalid)
	}
	for _, w := range what {
		next.History = append(next.History, Change{At: at.UTC(), By: by, What: w})
	}
	*c = next
	return nil
}

// certificateText is one of the texts printed on, or numbering, every
// certificate: the setting, its edit and how it is checked.
type certificateText struct {
	name  string // as the history and the refusals write it
	field *string
	edit  *string
	check func(string) (string, error)
}

// certificateTexts are c's officer, delegation, seal rule and register
// codes with e's edits of them, in the order the history lists them.
func certificateTexts(c *Config, e Edit) []certificateText {
	line := func(field, what string, max int) func(string) (string, error) {
		return func(s string) (string, error) { return s, checkLine(field, what, s, max) }
	}
	return []certificateText{
		{"officer", &c.OfficerName, e.OfficerName, line("officer", "officer's name", 80)},
		{"delegation", &c.Delegation, e.Delegation, line("delegation", "delegation", 160)},
		{"seal rule", &c.SealRule, e.SealRule, line("seal_rule", "seal rule", 200)},
		{"IPA code", &c.IPACode, e.IPACode, CheckIPACode},
		{"AOO code", &c.AOOCode, e.AOOCode, CheckAOOCode},
		{"register code", &c.RegisterCode, e.RegisterCode, CheckRegisterCode},
	}
}

// Channels are the channels a city sets diritti for, in the order they
// are shown.
var Channels = []certificate.Channel{certificate.Counter, certificate.SelfService, certificate.Office}

// MaxDirittiCents bounds each diritti amount: the national amounts are
// 0,52 and 0,26 EUR (L. 604/1962, tabella D), so more than 10 EUR on one
// certificate is a typing error, not a policy.
const MaxDirittiCents = 1000

// applyDiritti sets the diritti of the channels edit names. Each amount is
// between 0 and MaxDirittiCents and the exempt one is not above the one in
// bollo (tabella D halves it). Only the self-service kiosk may charge
// none: ANPR's own online certificates carry no diritti, while a counter
// or the office issues under tabella D.
func applyDiritti(c *Config, edit map[certificate.Channel]fees.Rates) error {
	if len(edit) == 0 {
		return nil
	}
	next := make(map[certificate.Channel]fees.Rates, len(c.Diritti)+len(edit))
	for ch, r := range c.Diritti {
		next[ch] = r
	}
	for _, ch := range Channels {
		r, ok := edit[ch]
		if !ok {
			continue
		}
		if err := CheckRates(ch, r); err != nil {
			return err
		}
		next[ch] = r
	}
	for ch := range edit {
		if !slices.Contains(Channels, ch) {
			return refuse(ReasonDirittiChannel, []string{string(ch)}, "%q is not a channel; diritti are set for counter, self_service or office", ch)
		}
	}
	c.Diritti = next
	return nil
}

// CheckRates refuses diritti on channel ch that no city could mean.
func CheckRates(ch certificate.Channel, r fees.Rates) error {
	switch {
	case r.InBolloCents < 0 || r.ExemptCents < 0 || r.InBolloCents > MaxDirittiCents || r.ExemptCents > MaxDirittiCents:
		return refuse(ReasonDirittiRange, []string{string(ch), fees.Euro(MaxDirittiCents)}, "the diritti on %s must be between 0,00 and %s", ch, fees.Euro(MaxDirittiCents))
	case r.ExemptCents > r.InBolloCents:
		return refuse(ReasonDirittiExemptAbove, []string{string(ch), fees.Euro(r.ExemptCents), fees.Euro(r.InBolloCents)},
			"the diritti on %s for a certificate exempt from bollo (%s) cannot be above those in bollo (%s)", ch, fees.Euro(r.ExemptCents), fees.Euro(r.InBolloCents))
	case ch != certificate.SelfService && r.InBolloCents == 0:
		return refuse(ReasonDirittiNone, []string{string(ch)}, "only the self-service kiosk may charge no diritti; at the %s the diritti of L. 604/1962, tabella D are due", ch)
	}
	return nil
}

// FormatRates writes diritti as the history shows them: "0,52/0,26 EUR",
// in bollo then exempt.
func FormatRates(r fees.Rates) string {
	return fees.Amount(r.InBolloCents, ',', 0) + "/" + fees.Amount(r.ExemptCents, ',', 0) + " EUR"
}

// ParseRates reads diritti as FormatRates writes them, with or without
// "EUR": "0,60/0,30" or "0.60/0.30"; "0" alone charges none.
func ParseRates(s string) (fees.Rates, error) {
	bad := fmt.Errorf("%w: %q is not diritti as IN-BOLLO/EXEMPT in euro, e.g. 0,52/0,26 (or 0 for none)", ErrInvalid, s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "EUR"))
	a, b, found := strings.Cut(s, "/")
	if !found {
		b = a
	}
	in, err1 := parseCents(a)
	ex, err2 := parseCents(b)
	if err1 != nil || err2 != nil || (!found && in != 0) {
		return fees.Rates{}, bad
	}
	return fees.Rates{InBolloCents: in, ExemptCents: ex}, nil
}

// parseCents reads "0,52", "0.52" or "1" as cents.
func parseCents(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	units, frac, _ := strings.Cut(s, ".")
	if units == "" || len(frac) > 2 {
		return 0, errors.New("not an amount")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	for _, r := range units + frac {
		if r < '0' || r > '9' {
			return 0, errors.New("not an amount")
		}
	}
	if len(units) > 6 {
		return 0, errors.New("too large")
	}
	u, _ := strconv.ParseInt(units, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	return u*100 + f, nil
}

// CheckIPACode accepts an administration's code in the Indice PA (IPA,
// art. 6-ter CAD; the code the segnatura di protocollo carries as
// CodiceAmministrazione, circolare AgID 60/2013): lower-case letters,
// digits and underscores, starting with a letter, as "c_f205" (a comune's
// is "c_" and its Belfiore code), "agid" or "r_lazio". It is written
// lower-case.
func CheckIPACode(s string) (string, error) {
	if s == "" {
		return s, nil
	}
	low := strings.ToLower(s)
	if !codeShape(low, 2, 30, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' }) || low[0] < 'a' || low[0] > 'z' {
		return "", refuse(ReasonIPACode, []string{s}, "%q is not an Indice PA code such as c_f205 (letters, digits and underscores, from 2 to 30, starting with a letter)", s)
	}
	return low, nil
}

// CheckAOOCode accepts the code the Indice PA gives the area organizzativa
// omogenea (CodiceAOO of the segnatura, circolare AgID 60/2013): letters,
// digits, underscores and hyphens, up to 16, as "A1B2C3D" or "AOO_MI".
func CheckAOOCode(s string) (string, error) {
	if s == "" {
		return s, nil
	}
	if !codeShape(s, 1, 16, codeRune) {
		return "", refuse(ReasonAOOCode, []string{s}, "%q is not an AOO code such as A1B2C3D (letters, digits, underscores and hyphens, up to 16)", s)
	}
	return s, nil
}

// CheckRegisterCode accepts the register's identifier within its AOO
// (CodiceRegistro of the segnatura, circolare AgID 60/2013), same shape
// as an AOO code: "CERT", "REG_CERTIFICATI".
func CheckRegisterCode(s string) (string, error) {
	if s == "" {
		return s, nil
	}
	if !codeShape(s, 1, 16, codeRune) {
		return "", refuse(ReasonRegisterCode, []string{s}, "%q is not a register code such as CERT (letters, digits, underscores and hyphens, up to 16)", s)
	}
	return s, nil
}

func codeRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

func codeShape(s string, min, max int, ok func(rune) bool) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}

// applyOffline sets the offline limits e gives, each of which must be
// positive (a city that wants no offline sales still lets a kiosk hold the
// one it was taking when the line went), and checks the result together.
func applyOffline(o *operators.OfflineLimits, e Edit, defaults operators.OfflineLimits) error {
	next := *o
	for _, err := range []error{
		setPositive(&next.OperationCents, e.OfflineOperationCents, "offline cap per sale"),
		setPositive(&next.TotalCents, e.OfflineTotalCents, "offline total cap"),
		setPositive(&next.Count, e.OfflineCount, "number of offline sales"),
		setPositive(&next.AgeHours, e.OfflineAgeHours, "offline age limit"),
	} {
		if err != nil {
			return err
		}
	}
	// Checked as they will be in force: unset fields stand for defaults.
	if err := next.Or(defaults).Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, unwrapInvalid(err))
	}
	*o = next
	return nil
}

// applyRetention sets the retention periods e gives, checked as they will
// be in force: records at least the law's 36 months, PDFs for a window no
// longer than the records themselves.
func applyRetention(r *retention.Policy, e Edit, defaults retention.Policy) error {
	next := *r
	for _, err := range []error{
		setPositive(&next.RecordsMonths, e.RetentionRecordsMonths, "records retention period"),
		setPositive(&next.PDFDays, e.RetentionPDFDays, "PDF re-download window"),
	} {
		if err != nil {
			return err
		}
	}
	if err := next.Or(defaults).Validate(); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), retention.ErrInvalid.Error()+": "))
	}
	*r = next
	return nil
}

// applyLimits sets the limits named in edit, each within its bounds, and
// checks them together as they will be in force.
func applyLimits(l *limits.Settings, edit map[string]int, defaults limits.Settings) error {
	next := *l
	names := make([]string, 0, len(edit))
	for name := range edit {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := next.Set(name, edit[name]); err != nil {
			return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), limits.ErrInvalid.Error()+": "))
		}
	}
	if err := next.Or(defaults).Validate(); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), limits.ErrInvalid.Error()+": "))
	}
	*l = next
	return nil
}

// setPositive sets *to to *v when the edit gives v, which must be positive.
func setPositive[T int | int64](to, v *T, what string) error {
	if v == nil {
		return nil
	}
	if *v < 1 {
		return fmt.Errorf("%w: the %s must be positive", ErrInvalid, what)
	}
	*to = *v
	return nil
}

// unwrapInvalid drops operators' "invalid" prefix, for one under city's.
func unwrapInvalid(err error) string {
	return strings.TrimPrefix(err.Error(), operators.ErrInvalid.Error()+": ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// CheckCap refuses a cap outside 1 cent to MaxFeeCapCents, or below the
// service fee of an agreement in force on day or later (the operator not
// revoked), naming each such operator.
func CheckCap(capCents int, ops []*operators.Operator, day registry.Date) error {
	if capCents < 1 || capCents > MaxFeeCapCents {
		return fmt.Errorf("%w: the fee cap must be between 0,01 and %s; a city that wants no service fee sets its agreements' fees to 0", ErrInvalid, fees.Euro(MaxFeeCapCents))
	}
	var over []*operators.Operator
	for _, o := range ops {
		if a := o.Agreement; a != nil && o.Status != operators.Revoked && !a.Expires.Before(day) && a.FeeCents > capCents {
			over = append(over, o)
		}
	}
	if len(over) == 0 {
		return nil
	}
	sort.Slice(over, func(i, j int) bool { return over[i].ID < over[j].ID })
	names := make([]string, len(over))
	for i, o := range over {
		names[i] = fmt.Sprintf("%s %s (%s)", o.ID, o.DisplayName(), fees.Euro(int64(o.Agreement.FeeCents)))
	}
	return fmt.Errorf("%w: a fee cap of %s is below the service fee agreed with %s; lower those agreements' fees first",
		ErrInvalid, fees.Euro(int64(capCents)), strings.Join(names, ", "))
}

func checkBelfiore(s string) (string, error) {
	s = strings.ToUpper(s)
	if len(s) != 4 || s[0] < 'A' || s[0] > 'Z' {
		return "", fmt.Errorf("%w: %q is not a Belfiore code such as F205 (a letter and three digits)", ErrInvalid, s)
	}
	if _, err := strconv.Atoi(s[1:]); err != nil {
		return "", fmt.Errorf("%w: %q is not a Belfiore code such as F205 (a letter and three digits)", ErrInvalid, s)
	}
	return s, nil
}

// checkLine refuses a printed setting longer than max characters or on
// more than one line; field is its key in Error's arguments, what its
// name in the English sentence.
func checkLine(field, what, s string, max int) error {
	if len([]rune(s)) > max {
		return refuse(ReasonTextTooLong, []string{field, strconv.Itoa(max)}, "the %s has more than %d characters", what, max)
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		return refuse(ReasonTextLines, []string{field}, "the %s must fit on one line", what)
	}
	return nil
}

// CheckBolloAuthorisation accepts the authorisation as printed after
// "autorizzazione Agenzia delle Entrate": "n. NUMBER del DD/MM/YYYY", the
// number as the Agenzia wrote it and a real date.
func CheckBolloAuthorisation(s string) (string, error) {
	bad := refuse(ReasonBolloAuthorisation, []string{s}, "%q is not an authorisation as \"n. NUMBER del DD/MM/YYYY\", e.g. \"n. 123/2019 del 15/01/2019\"", s)
	if err := checkLine("bollo_authorisation", "bollo authorisation", s, 80); err != nil {
		return "", err
	}
	rest, ok := strings.CutPrefix(s, "n. ")
	if !ok {
		rest, ok = strings.CutPrefix(s, "N. ")
	}
	num, date, found := strings.Cut(rest, " del ")
	if !ok || !found || strings.TrimSpace(num) == "" || strings.Contains(strings.TrimSpace(num), " ") {
		return "", bad
	}
	if _, err := time.Parse("02/01/2006", strings.TrimSpace(date)); err != nil {
		return "", bad
	}
	return "n. " + strings.TrimSpace(num) + " del " + strings.TrimSpace(date), nil
}

// CheckPublicURL accepts an absolute http or https URL with no query or
// fragment, and drops a trailing slash: certificates append /v/ID to it.
func CheckPublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%w: %q is not a public URL such as https://certificati.comune.milano.it", ErrInvalid, s)
	}
	return strings.TrimRight(s, "/"), nil
}

// ParseMonthDay reads "MM-DD" or "MM-DD Name" (the saint's name).
func ParseMonthDay(s string) (operators.MonthDay, error) {
	s = strings.TrimSpace(s)
	date, name, _ := strings.Cut(s, " ")
	bad := fmt.Errorf("%w: %q is not a day of the year as MM-DD, e.g. 12-07 for Sant'Ambrogio", ErrInvalid, s)
	mm, dd, ok := strings.Cut(date, "-")
	if !ok || len(mm) != 2 || len(dd) != 2 {
		return operators.MonthDay{}, bad
	}
	m, err1 := strconv.Atoi(mm)
	d, err2 := strconv.Atoi(dd)
	if err1 != nil || err2 != nil {
		return operators.MonthDay{}, bad
	}
	md := operators.MonthDay{Month: time.Month(m), Day: d, Name: strings.TrimSpace(name)}
	if md.Name == "" {
		md.Name = "Santo patrono"
	}
	if checkMonthDay(md) != nil {
		return operators.MonthDay{}, bad
	}
	return md, nil
}

func checkMonthDay(md operators.MonthDay) error {
	// 2024 is a leap year, so 29 February is a day that exists.
	if md.Month < 1 || md.Month > 12 || md.Day < 1 || time.Date(2024, md.Month, md.Day, 0, 0, 0, 0, time.UTC).Day() != md.Day {
		return fmt.Errorf("%w: %02d-%02d is not a day of the year", ErrInvalid, int(md.Month), md.Day)
	}
	return nil
}

// FormatMonthDay writes "12-07 Sant'Ambrogio".
func FormatMonthDay(md operators.MonthDay) string {
	if md.Month == 0 {
		return ""
	}
	return strings.TrimSpace(fmt.Sprintf("%02d-%02d %s", int(md.Month), md.Day, md.Name))
}
