package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/retention"
)

// feeCap is the city's cap now: from the settings in the file when the
// console has them, else the fixed FeeCapCents.
func (c *Console) feeCap() (int, error) {
	if c.Settings == nil {
		return c.FeeCapCents, nil
	}
	cfg, err := c.Settings.Current()
	return cfg.FeeCapCents, err
}

// feeCapSet changes the cap. The settings store checks it against every
// agreement in the same transaction and records who changed it, when, and
// from what to what; a refusal names the operators whose fees stand above
// it, on the fee page itself.
func (c *Console) feeCapSet(w http.ResponseWriter, r *http.Request) {
	if !c.haveSettings(w, r) {
		return
	}
	cents, err := parseEuro(r.PostFormValue("cap"))
	if err != nil {
		c.showFees(w, r, err)
		return
	}
	capCents := int(cents)
	if !c.applySettings(w, r, city.Edit{FeeCapCents: &capCents}, c.showFees) {
		return
	}
	c.log().Info("admin: fee cap changed", "cap_cents", capCents, "by", userOf(r))
	redirect(w, r, "/admin/fees", "feecap")
}

// offlineLimits are the limits kiosks receive with their agreements now:
// the city's settings when the console has them, else the defaults.
func (c *Console) offlineLimits() (operators.OfflineLimits, error) {
	if c.Settings == nil {
		return operators.DefaultOfflineLimits, nil
	}
	cfg, err := c.Settings.Current()
	return cfg.Offline.Effective(), err
}

// offlineSet changes what a kiosk may take while it cannot reach the hub;
// a field left empty stays as it is. Each kiosk receives the new limits
// with its agreement the next time it reaches the hub.
func (c *Console) offlineSet(w http.ResponseWriter, r *http.Request) {
	if !c.haveSettings(w, r) {
		return
	}
	var e city.Edit
	field := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	if v := field("sale"); v != "" {
		cents, err := parseEuroUpTo(v, operators.MaxOfflineOperationCents/100)
		if err != nil {
			c.showFees(w, r, err)
			return
		}
		e.OfflineOperationCents = &cents
	}
	if v := field("total"); v != "" {
		cents, err := parseEuroUpTo(v, operators.MaxOfflineTotalCents/100)
		if err != nil {
			c.showFees(w, r, err)
			return
		}
		e.OfflineTotalCents = &cents
	}
	if err := wholeNumbers(r, []intField{{"count", &e.OfflineCount}, {"hours", &e.OfflineAgeHours}}); err != nil {
		c.showFees(w, r, err)
		return
	}
	if e.Empty() {
		c.showFees(w, r, refused(fault.Invalid, "setting_unchanged"))
		return
	}
	if !c.applySettings(w, r, e, c.showFees) {
		return
	}
	c.log().Info("admin: offline limits changed", "by", userOf(r))
	redirect(w, r, "/admin/fees", "offline")
}

// retentionPolicy is how long records and PDFs are kept now: the city's
// settings when the console has them, else the defaults.
func (c *Console) retentionPolicy() (retention.Policy, error) {
	if c.Settings == nil {
		return retention.Defaults, nil
	}
	cfg, err := c.Settings.Current()
	return cfg.Retention.Effective(), err
}

// retentionSet changes how long issuance records (months) and PDFs (days)
// are kept; a field left empty stays as it is. The daily retention run
// applies them from its next run.
func (c *Console) retentionSet(w http.ResponseWriter, r *http.Request) {
	if !c.haveSettings(w, r) {
		return
	}
	var e city.Edit
	if err := wholeNumbers(r, []intField{{"months", &e.RetentionRecordsMonths}, {"pdfdays", &e.RetentionPDFDays}}); err != nil {
		c.showFees(w, r, err)
		return
	}
	if e.Empty() {
		c.showFees(w, r, refused(fault.Invalid, "setting_unchanged"))
		return
	}
	if !c.applySettings(w, r, e, c.showFees) {
		return
	}
	c.log().Info("admin: retention periods changed", "by", userOf(r))
	redirect(w, r, "/admin/fees", "retention")
}

// haveSettings answers a change to the city settings on a hub that keeps
// none with a 404, and reports whether there are settings to change.
func (c *Console) haveSettings(w http.ResponseWriter, r *http.Request) bool {
	if c.Settings == nil {
		c.fail(w, r, refused(fault.NotFound, "no_settings"))
		return false
	}
	return true
}

// applySettings records e as the signed-in staff member's change to the
// city settings. A change the settings refuse (city.ErrInvalid) is shown
// on the form's own page by show; any other failure is a server error.
// It reports whether e was recorded.
func (c *Console) applySettings(w http.ResponseWriter, r *http.Request, e city.Edit, show func(http.ResponseWriter, *http.Request, error)) bool {
	_, err := c.Settings.Set(e, "staff:"+userOf(r))
	switch {
	case err == nil:
		return true
	case errors.Is(err, city.ErrInvalid):
		show(w, r, err)
	default:
		c.fail(w, r, err)
	}
	return false
}

// intField is a form field holding a whole number and the setting it
// changes.
type intField struct {
	name string
	to   **int
}

// wholeNumbers sets each field's setting from the form; a field left empty
// leaves its setting nil, that is unchanged. It fails on the first field
// that is not a whole number.
func wholeNumbers(r *http.Request, fields []intField) error {
	for _, f := range fields {
		v := strings.TrimSpace(r.PostFormValue(f.name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return refused(fault.Invalid, "not_whole_number", f.name, v)
		}
		*f.to = &n
	}
	return nil
}

// citySettingsRoutes are the forms of the city's certificate settings on
// the fee page: diritti per channel, the bollo (authorisation and the
// stato civile exemption) and the officer, seal and register codes.
func (c *Console) citySettingsRoutes(mux *http.ServeMux) {
	mux.Handle("POST /admin/fees/diritti", c.require(staff.ManageCity, c.dirittiSet))
	mux.Handle("POST /admin/fees/bollo", c.require(staff.ManageCity, c.bolloSet))
	mux.Handle("POST /admin/fees/certificates", c.require(staff.ManageCity, c.certificateTextsSet))
}

// dirittiRow is one channel's diritti on the fee page.
type dirittiRow struct {
	Channel certificate.Channel
	Rates   fees.Rates
	Set     bool // set by the city, not the national default
}

// certificateField is one of the texts printed on, or numbering, every
// certificate, as the fee page shows and edits it.
type certificateField struct {
	Name  string // the form field and the label's key (fees.cert.NAME)
	Value string
	Set   bool
}

// certificateSettings is what the fee page shows of the city's
// certificate settings: the current values, defaults filled in.
type certificateSettings struct {
	Diritti            []dirittiRow
	LawExempt          bool
	BolloAuthorisation string
	Fields             []certificateField
}

// certificateSettingsNow reads them; without settings in the file the
// defaults stand (the national diritti, no exemption, nothing named).
func (c *Console) certificateSettingsNow() (certificateSettings, error) {
	var stored, cur city.Config
	if c.Settings != nil {
		var err error
		if stored, err = c.Settings.Stored(); err != nil {
			return certificateSettings{}, err
		}
		cur = stored.Effective(c.Settings.Defaults)
	}
	s := certificateSettings{LawExempt: cur.LawExempt(), BolloAuthorisation: cur.BolloAuthorisation}
	pol := cur.CertificatePolicy()
	for _, ch := range city.Channels {
		_, set := stored.Diritti[ch]
		s.Diritti = append(s.Diritti, dirittiRow{Channel: ch, Rates: pol.DirittiOn(ch), Set: set})
	}
	for _, f := range []struct {
		name        string
		cur, stored string
	}{
		{"officer", cur.OfficerName, stored.OfficerName}, {"delegation", cur.Delegation, stored.Delegation}, {"seal_rule", cur.SealRule, stored.SealRule},
		{"ipa", cur.IPACode, stored.IPACode}, {"aoo", cur.AOOCode, stored.AOOCode}, {"register", cur.RegisterCode, stored.RegisterCode},
	} {
		s.Fields = append(s.Fields, certificateField{Name: f.name, Value: f.cur, Set: f.stored != ""})
	}
	return s, nil
}

// dirittiSet changes the diritti of the channels whose amounts the form
// changes; the others stay as they are (set or default).
func (c *Console) dirittiSet(w http.ResponseWriter, r *http.Request) {
	if !c.haveSettings(w, r) {
		return
	}
	now, err := c.certificateSettingsNow()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	e := city.Edit{Diritti: map[certificate.Channel]fees.Rates{}}
	for _, row := range now.Diritti {
		var rates fees.Rates
		for _, f := range []struct {
			name string
			to   *int64
		}{{"bollo", &rates.InBolloCents}, {"exempt", &rates.ExemptCents}} {
			v := strings.TrimSpace(r.PostFormValue("diritti-" + string(row.Channel) + "-" + f.name))
			cents, err := parseEuroUpTo(v, city.MaxDirittiCents/100)
			if err != nil {
				c.showFees(w, r, refused(fault.Invalid, "setting_amount", v))
				return
			}
			*f.to = cents
		}
		if rates != row.Rates {
			e.Diritti[row.Channel] = rates
		}
	}
	if len(e.Diritti) == 0 {
		c.showFees(w, r, refused(fault.Invalid, "setting_unchanged"))
		return
	}
	if !c.applySettings(w, r, e, c.showFees) {
		return
	}
	c.log().Info("admin: diritti changed", "by", userOf(r))
	redirect(w, r, "/admin/fees", "diritti")
}

// bolloSet changes the virtual bollo authorisation and the stato civile
// exemption, each only when the form changes it.
func (c *Console) bolloSet(w http.ResponseWriter, r *http.Request) {
	if !c.haveSettings(w, r) {
		return
	}
	now, err := c.certificateSettingsNow()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var e city.Edit
	if auth := strings.TrimSpace(r.PostFormValue("authorisation")); auth != now.BolloAuthorisation {
		e.BolloAuthorisation = &auth
	}
	switch v := r.PostFormValue("exempt"); v {
	case "on", "off":
		if on := v == "on"; on != now.LawExempt {
			e.BirthMarriageExempt = &on
		}
	default:
		c.fail(w, r, refused(fault.Malformed, "form_unreadable"))
		return
	}
	if e.Empty() {
		c.showFees(w, r, refused(fault.Invalid, "setting_unchanged"))
		return
	}
	if !c.applySettings(w, r, e, c.showFees) {
		return
	}
	c.log().Info("admin: bollo settings changed", "by", userOf(r))
	redirect(w, r, "/admin/fees", "bollo")
}

// certificateTextsSet changes the officer, delegation, seal rule and
// register codes the form changes; an emptied field clears its setting.
func (c *Console) certificateTextsSet(w http.ResponseWriter, r *http.Request) {
	if !c.haveSettings(w, r) {
		return
	}
	now, err := c.certificateSettingsNow()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var e city.Edit
	edits := map[string]**string{"officer": &e.OfficerName, "delegation": &e.Delegation, "seal_rule": &e.SealRule,
		"ipa": &e.IPACode, "aoo": &e.AOOCode, "register": &e.RegisterCode}
	for _, f := range now.Fields {
		if v := strings.TrimSpace(r.PostFormValue(f.Name)); v != f.Value {
			*edits[f.Name] = &v
		}
	}
	if e.Empty() {
		c.showFees(w, r, refused(fault.Invalid, "setting_unchanged"))
		return
	}
	if !c.applySettings(w, r, e, c.showFees) {
		return
	}
	c.log().Info("admin: certificate settings changed", "by", userOf(r))
	redirect(w, r, "/admin/fees", "certificates")
}

// settingSentence is the sentence for a change the settings refused
// (ce, whose reason the catalogue has), in the staff member's language,
// the channel and field arguments translated too.
func settingSentence(lang string, ce *city.Error) string {
	args := make([]any, len(ce.Args))
	for i, a := range ce.Args {
		args[i] = a
	}
	// The diritti's first argument is a channel, the texts' a field: keys
	// the catalogue names. The codes' is the value typed, kept as is.
	switch {
	case len(args) == 0:
	case strings.HasPrefix(ce.Reason, "diritti_") && knownKey(lang, "channel."+ce.Args[0]):
		args[0] = tr(lang, "channel."+ce.Args[0])
	case strings.HasPrefix(ce.Reason, "setting_") && knownKey(lang, "fees.cert."+ce.Args[0]):
		args[0] = tr(lang, "fees.cert."+ce.Args[0])
	}
	return reasonText(lang, ce.Reason, args...)
}
