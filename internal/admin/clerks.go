package admin

import (
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

// Named clerks on the operator page (issue 13): city staff enable each
// person who works a shop's counter, and suspend or reinstate them one by
// one; each change goes into the clerk's history under the staff account.
func (c *Console) clerkRoutes(mux *http.ServeMux) {
	mux.Handle("POST /admin/operators/{id}/clerks", c.require(staff.ManageOperators, c.clerkAdd))
	mux.Handle("POST /admin/clerks/{id}/status", c.require(staff.ManageOperators, c.clerkStatus))
}

func (c *Console) clerkAdd(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	k := &operators.Clerk{OperatorID: id, CF: r.PostFormValue("cf"), Name: r.PostFormValue("name"), NIS: r.PostFormValue("nis")}
	var err error
	if k.Trained, err = registry.ParseDate(strings.TrimSpace(r.PostFormValue("trained"))); err != nil {
		c.fail(w, r, refused(fault.Invalid, "date_invalid"))
		return
	}
	if k.EnabledUntil, err = registry.ParseDate(strings.TrimSpace(r.PostFormValue("until"))); err != nil {
		c.fail(w, r, refused(fault.Invalid, "date_invalid"))
		return
	}
	if err := c.Operators.AddClerk(k, "staff:"+userOf(r)); err != nil {
		c.fail(w, r, err)
		return
	}
	c.log().Info("admin: clerk enabled", "operator", id, "clerk", k.ID, "by", userOf(r))
	redirect(w, r, "/admin/operators/"+id, "clerk_added")
}

func (c *Console) clerkStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	to := operators.ClerkStatus(r.PostFormValue("to"))
	k, err := c.Operators.SetClerkStatus(id, to, "staff:"+userOf(r), strings.TrimSpace(r.PostFormValue("reason")))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log().Info("admin: clerk status", "clerk", id, "to", to, "by", userOf(r))
	redirect(w, r, "/admin/operators/"+k.OperatorID, "clerk_"+string(to))
}
