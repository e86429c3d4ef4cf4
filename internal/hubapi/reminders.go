package hubapi

import (
	"fmt"
	"net/http"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
)

// reminderPurpose is what the audit log says of a citizen's read or
// change of their reminder choices.
const reminderPurpose = "consultazione e modifica delle preferenze dei promemoria da parte dell'interessato"

func (s *Server) reminderRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/reminder-preferences", s.signed(s.limited(limitAccessLog, http.HandlerFunc(s.reminderPreferences))))
}

// reminderPreferences shows and changes the citizen's own choices of
// channel per kind of reminder; only the citizen, identified as for their
// access log, reads or changes them.
func (s *Server) reminderPreferences(w http.ResponseWriter, r *http.Request) {
	var req api.ReminderPreferencesRequest
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel, set}"); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range req.Set {
		if !reminder.Kind(c.Kind).Valid() || !reminder.Choice(c.Choice).Valid() {
			s.fail(w, r, fault.New(fault.Invalid, api.ReasonReminderPrefInvalid,
				fmt.Sprintf("%q for %q is not a reminder choice: kinds are cie-expiry, request-status, appointment, delegation-used; choices both, appio, email, none", c.Choice, c.Kind)))
			return
		}
	}
	// One identification for every citizen's own records (delegations.go):
	// a failed one is in the audit log here too.
	c, ok := s.identifyCitizen(w, r, req.Requester, req.Channel, reminderPurpose, "preferenze dei promemoria")
	if !ok {
		return
	}
	who, keyID := c.who, c.actor.ID
	var p reminder.Preferences
	run := s.Stores.View
	if len(req.Set) > 0 {
		run = s.Stores.Update
	}
	err := run(r.Context(), func(tx store.Tx) error {
		for _, c := range req.Set {
			if err := tx.Reminders().SetPreference(who.CF, reminder.Kind(c.Kind), reminder.Choice(c.Choice), "citizen:"+keyID, s.Now()); err != nil {
				return err
			}
		}
		var err error
		p, err = tx.Reminders().Preferences(who.CF)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, preferencesOut(who, p))
}

func preferencesOut(who *registry.Person, p reminder.Preferences) api.ReminderPreferences {
	out := api.ReminderPreferences{CF: who.CF, Name: who.FullName(), Updated: p.Updated}
	for _, k := range reminder.Kinds {
		out.Choices = append(out.Choices, api.ReminderChoice{Kind: string(k), Choice: string(p.Choice(k))})
	}
	return out
}
