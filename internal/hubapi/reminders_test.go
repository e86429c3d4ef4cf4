package hubapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
)

// A citizen who taps their CIE and proves the PIN reads their reminder
// choices (every kind, both channels until they chose) and changes them;
// the change is theirs alone, recorded under the kiosk; an unknown choice
// changes nothing; no PIN, no preferences.
func TestReminderPreferences(t *testing.T) {
	d := issuancetest.New(t, 200, 3, testNow)
	shop := newActiveShop(t, d)
	s := &Server{Store: d.Store, Stores: d.Service.Stores, Desk: d.Service, Operators: shop.ops, Now: d.Now, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: shop.ops, Clock: d.Now}, IdentifyRequester: nisIdentifier(d.Store)}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	signer := &httpsig.Signer{Key: shop.key, KeyID: shop.keyID, Clock: d.Now}
	post := func(body api.ReminderPreferencesRequest) (int, api.ReminderPreferences, api.Problem) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+api.PathReminderPreferences, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, out := send(t, req, signer, b)
		var p api.ReminderPreferences
		var pr api.Problem
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(out, &p); err != nil {
				t.Fatal(err)
			}
		} else {
			json.Unmarshal(out, &pr)
		}
		return resp.StatusCode, p, pr
	}
	var who *registry.Person
	var cie registry.Document
	d.Store.View(context.Background(), func(r registry.Reader) error {
		for _, cf := range d.Residents {
			p, err := r.PersonByCF(cf)
			if err != nil {
				return err
			}
			if doc, ok := p.ValidDocument(registry.DateOf(testNow)); ok && doc.Kind == registry.CIE && doc.NIS != "" {
				who, cie = p, doc
				return nil
			}
		}
		return nil
	})
	if who == nil {
		t.Fatal("no resident with a CIE")
	}
	tap := api.RequesterEvidence{Method: api.EvidenceCIE, NIS: cie.NIS, PINProved: true}
	status, p, pr := post(api.ReminderPreferencesRequest{Requester: tap})
	if status != http.StatusOK || p.CF != who.CF || len(p.Choices) != len(reminder.Kinds) || !p.Updated.IsZero() {
		t.Fatalf("read: %d %+v %+v", status, p, pr)
	}
	for _, c := range p.Choices {
		if c.Choice != "both" {
			t.Errorf("%s is %s before any choice, want both", c.Kind, c.Choice)
		}
	}
	status, p, pr = post(api.ReminderPreferencesRequest{Requester: tap, Set: []api.ReminderChoice{{Kind: "appointment", Choice: "appio"}, {Kind: "cie-expiry", Choice: "none"}}})
	if status != http.StatusOK {
		t.Fatalf("set: %d %+v", status, pr)
	}
	got := map[string]string{}
	for _, c := range p.Choices {
		got[c.Kind] = c.Choice
	}
	if got["appointment"] != "appio" || got["cie-expiry"] != "none" || got["request-status"] != "both" {
		t.Errorf("after the change: %v", got)
	}
	// Half of a bad request is not recorded.
	status, _, pr = post(api.ReminderPreferencesRequest{Requester: tap, Set: []api.ReminderChoice{{Kind: "request-status", Choice: "email"}, {Kind: "appointment", Choice: "sms"}}})
	if status != http.StatusUnprocessableEntity || pr.Reason != api.ReasonReminderPrefInvalid {
		t.Errorf("a bad choice: %d %+v", status, pr)
	}
	status, _, pr = post(api.ReminderPreferencesRequest{Requester: api.RequesterEvidence{Method: api.EvidenceCIE, NIS: cie.NIS}, Set: []api.ReminderChoice{{Kind: "request-status", Choice: "none"}}})
	if status != http.StatusForbidden || pr.Reason != api.ReasonIdentificationFailed {
		t.Errorf("without the PIN: %d %+v", status, pr)
	}
	// The failed identification is in the audit log, as for every
	// citizen's own records.
	es, err := store.AuditLog{S: d.Service.Stores}.Search(audit.Query{Subject: "NIS " + cie.NIS}, 10)
	if err != nil {
		t.Fatal(err)
	}
	audited := false
	for _, e := range es {
		audited = audited || strings.Contains(e.Purpose, "identificazione non riuscita") && e.Data == "preferenze dei promemoria"
	}
	if !audited {
		t.Errorf("the failed identification is not in the audit log: %+v", es)
	}
	var stored reminder.Preferences
	d.Service.Stores.View(context.Background(), func(tx store.Tx) (err error) {
		stored, err = tx.Reminders().Preferences(who.CF)
		return err
	})
	if stored.Choice(reminder.RequestStatus) != reminder.Both || stored.Choice(reminder.Appointment) != reminder.AppIO || stored.By != "citizen:"+shop.keyID {
		t.Errorf("stored %+v", stored)
	}
}
