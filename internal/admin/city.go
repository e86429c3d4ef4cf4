package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/city"
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
		c.showFees(w, r, http.StatusUnprocessableEntity, err.Error())
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
			c.showFees(w, r, http.StatusUnprocessableEntity, err.Error())
			return
		}
		e.OfflineOperationCents = &cents
	}
	if v := field("total"); v != "" {
		cents, err := parseEuroUpTo(v, operators.MaxOfflineTotalCents/100)
		if err != nil {
			c.showFees(w, r, http.StatusUnprocessableEntity, err.Error())
			return
		}
		e.OfflineTotalCents = &cents
	}
	if err := wholeNumbers(r, []intField{{"count", &e.OfflineCount}, {"hours", &e.OfflineAgeHours}}); err != nil {
		c.showFees(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if e.Empty() {
		c.showFees(w, r, http.StatusUnprocessableEntity, "give at least one offline limit to change")
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
		c.showFees(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if e.Empty() {
		c.showFees(w, r, http.StatusUnprocessableEntity, "give at least one retention period to change")
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
		c.fail(w, r, http.StatusNotFound, badInput("this hub keeps no city settings"))
		return false
	}
	return true
}

// applySettings records e as the signed-in staff member's change to the
// city settings. A change the settings refuse (city.ErrInvalid) is shown
// on the form's own page by show; any other failure is a server error.
// It reports whether e was recorded.
func (c *Console) applySettings(w http.ResponseWriter, r *http.Request, e city.Edit, show func(http.ResponseWriter, *http.Request, int, string)) bool {
	_, err := c.Settings.Set(e, "staff:"+userOf(r))
	switch {
	case err == nil:
		return true
	case errors.Is(err, city.ErrInvalid):
		show(w, r, http.StatusUnprocessableEntity, err.Error())
	default:
		c.fail(w, r, http.StatusInternalServerError, err)
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
			return fmt.Errorf("%q is not a whole number", v)
		}
		*f.to = &n
	}
	return nil
}
