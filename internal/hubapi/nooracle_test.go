package hubapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/store"
)

// TestNoOracle is issue 13's test: for a subject outside the requester's
// household, the refusal's status and body are byte-identical whether the
// subject is a living person, a dead one, one in AIRE or a codice fiscale
// nobody has, whatever the certificate type asked; and every failed
// identification, at issuance and at the look-up, is one answer whatever
// its cause. A device mapping the registry learns nothing.
func TestNoOracle(t *testing.T) {
	f := newFixtureOf(t, 400)
	c := f.d.Cast(t)
	ev := f.ev(t, c.Requester)

	type answer struct {
		status int
		body   string
	}
	var ref *answer
	refName := ""
	for _, types := range [][]string{{"residenza"}, {"stato_di_famiglia"}} {
		for _, subj := range []struct{ name, cf string }{
			{"a living stranger", c.Stranger}, {"a dead person", c.Dead}, {"a person in AIRE", c.AIRE},
			{"a codice fiscale nobody has", c.Missing}, {"a fellow lodger's, asked by a lodger", c.Colodger},
		} {
			body := map[string]any{"cf": subj.cf, "types": types, "requester": ev}
			if subj.cf == c.Colodger {
				body["requester"] = f.ev(t, c.Lodger)
			}
			resp, b := f.post(t, fmt.Sprintf("oracle-%s-%s", types[0], subj.cf), body, true)
			got := &answer{resp.StatusCode, string(b)}
			if ref == nil {
				ref, refName = got, subj.name
				if got.status != 403 || !strings.Contains(got.body, api.ReasonNotRequesterHousehold) {
					t.Fatalf("%s: %d %s, want 403 %s", subj.name, got.status, got.body, api.ReasonNotRequesterHousehold)
				}
				continue
			}
			if *got != *ref {
				t.Errorf("%s (%s): %d %s\n%s: %d %s", subj.name, types[0], got.status, got.body, refName, ref.status, ref.body)
			}
		}
	}

	// Identification failures, at issuance and at the look-up: one answer
	// each, the same for every cause.
	nis := issuancetest.CIENIS(t, f.d.Store, c.Requester, testNow)
	tap := func(mode virtual.Mode, device, nis string, at time.Time) api.RequesterEvidence {
		return *issuancetest.API(issuancetest.CIETap(t, mode, device, nis, at, true))
	}
	notTheirs := *ev
	notTheirs.CF = c.Stranger
	deadDoc := *ev
	deadDoc.CF = c.Dead
	unknownCF := *ev
	unknownCF.CF = c.Missing
	atSelfService := *ev
	causes := []struct {
		name    string
		ev      api.RequesterEvidence
		channel string
	}{
		{"a document that is not theirs", notTheirs, api.ChannelCounter},
		{"a dead person's codice fiscale", deadDoc, api.ChannelCounter},
		{"a codice fiscale nobody has", unknownCF, api.ChannelCounter},
		{"document evidence at self-service", atSelfService, api.ChannelSelfService},
		{"an unknown NIS", tap(virtual.Genuine, "dev-1", "999999999998", testNow), api.ChannelCounter},
		{"a malformed NIS", func() api.RequesterEvidence {
			e := tap(virtual.Genuine, "dev-1", nis, testNow)
			e.NIS = "12ab"
			return e
		}(), api.ChannelCounter},
		{"a tap read by another device", tap(virtual.Genuine, "dev-2", nis, testNow), api.ChannelCounter},
		{"a stale tap", tap(virtual.Genuine, "dev-1", nis, testNow.Add(-48*time.Hour)), api.ChannelCounter},
		{"a cloned chip", tap(virtual.Cloned, "dev-1", nis, testNow), api.ChannelCounter},
		{"an issuer the hub does not trust", tap(virtual.Expired, "dev-1", nis, testNow), api.ChannelCounter},
	}
	var issueRef, lookRef *answer
	for i, cs := range causes {
		e := cs.ev
		resp, b := f.post(t, fmt.Sprint("ident-", i), map[string]any{"cf": c.Requester, "types": []string{"residenza"}, "requester": &e, "channel": cs.channel}, true)
		got := &answer{resp.StatusCode, string(b)}
		if issueRef == nil {
			issueRef = got
			if got.status != 403 || !strings.Contains(got.body, api.ReasonIdentificationFailed) {
				t.Fatalf("%s at issuance: %d %s, want 403 %s", cs.name, got.status, got.body, api.ReasonIdentificationFailed)
			}
		} else if *got != *issueRef {
			t.Errorf("%s at issuance: %d %s\n%s: %d %s", cs.name, got.status, got.body, causes[0].name, issueRef.status, issueRef.body)
		}
		resp, b = f.identify(t, api.IdentifyRequest{Requester: e, Channel: cs.channel}, true)
		got = &answer{resp.StatusCode, string(b)}
		if lookRef == nil {
			lookRef = got
			if got.status != 403 || !strings.Contains(got.body, api.ReasonIdentificationFailed) {
				t.Fatalf("%s at the look-up: %d %s, want 403 %s", cs.name, got.status, got.body, api.ReasonIdentificationFailed)
			}
		} else if *got != *lookRef {
			t.Errorf("%s at the look-up: %d %s\n%s: %d %s", cs.name, got.status, got.body, causes[0].name, lookRef.status, lookRef.body)
		}
	}

	// The precise cause is in the audit log, not in the answer.
	es, err := store.AuditLog{S: f.desk.Stores}.Search(audit.Query{Subject: c.Requester}, 200)
	if err != nil {
		t.Fatal(err)
	}
	var stale bool
	for _, e := range es {
		stale = stale || strings.Contains(e.Purpose, "older than")
	}
	if !stale || strings.Contains(issueRef.body, "older") {
		t.Errorf("the stale tap's cause: in the audit log %v, in the answer %q", stale, issueRef.body)
	}
	var p api.Problem
	if json.NewDecoder(bytes.NewReader([]byte(issueRef.body))).Decode(&p); p.Message == "" {
		t.Errorf("the refusal has no sentence: %s", issueRef.body)
	}
}
