package admin

import (
	"net/http"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/fault"
)

// staffChange applies an admin's change to the account in the path,
// recorded in the account's history with who and when, and ends that
// account's sessions.
func (c *Console) staffChange(what string, fn func(r *http.Request, a *staff.Account, at time.Time, by string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user := r.PathValue("user")
		if what == "disable" && user == userOf(r) {
			c.fail(w, r, refused(fault.Invalid, "staff_not_self"))
			return
		}
		by := "staff:" + userOf(r)
		a, err := c.Staff.Change(user, func(a *staff.Account) error { return fn(r, a, c.now(), by) })
		if err != nil {
			c.fail(w, r, err)
			return
		}
		c.log().Info("admin: staff account changed", "user", a.User, "change", what, "by", userOf(r))
		if user == userOf(r) {
			// One's own password reset ends one's own session too.
			clearCookie(w, r, sessionCookie, "/admin/")
			redirect(w, r, "/admin/login", "staff_"+what)
			return
		}
		redirect(w, r, "/admin/staff", "staff_"+what)
	}
}

func (c *Console) staffRoutes(mux *http.ServeMux) {
	mux.Handle("POST /admin/staff/{user}/disable", c.require(staff.ManageStaff, c.staffChange("disable",
		func(_ *http.Request, a *staff.Account, at time.Time, by string) error { return a.Disable(at, by) })))
	mux.Handle("POST /admin/staff/{user}/enable", c.require(staff.ManageStaff, c.staffChange("enable",
		func(_ *http.Request, a *staff.Account, at time.Time, by string) error { return a.Enable(at, by) })))
	mux.Handle("POST /admin/staff/{user}/password", c.require(staff.ManageStaff, c.staffChange("password",
		func(r *http.Request, a *staff.Account, at time.Time, by string) error {
			return a.ResetPassword(c.Rand, r.PostFormValue("password"), at, by)
		})))
}
