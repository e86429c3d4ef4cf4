package admin

import (
	"errors"
	"net/http"

	"github.com/sportello/sportello/internal/city"
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
	if c.Settings == nil {
		c.fail(w, r, http.StatusNotFound, badInput("this hub keeps no city settings"))
		return
	}
	cents, err := parseEuro(r.PostFormValue("cap"))
	if err != nil {
		c.showFees(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	capCents := int(cents)
	if _, err := c.Settings.Set(city.Edit{FeeCapCents: &capCents}, "staff:"+userOf(r)); err != nil {
		if errors.Is(err, city.ErrInvalid) {
			c.showFees(w, r, http.StatusUnprocessableEntity, err.Error())
			return
		}
		c.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	c.log().Info("admin: fee cap changed", "cap_cents", capCents, "by", userOf(r))
	redirect(w, r, "/admin/fees", "feecap")
}
