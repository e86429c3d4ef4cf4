package kiosk

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/receipt"
)

var ctx = context.Background()

func TestOperatorIssueAndPrint(t *testing.T) {
	tests := []struct {
		name      string
		identify  func(r *rig) error
		evidence  *api.RequesterEvidence // what identified the citizen, sent with the request
		choice    Choice
		wantTotal int64
		wantLines int
	}{
		{"CIE tap, residenza in bollo", func(r *rig) error { return r.flow.TapCard(ctx) }, fakeTap(nisMario, 1),
			Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}, 1600 + 52 + 150, 3},
		{"codice fiscale and document, exempt for a pension abroad", func(r *rig) error { return r.flow.IdentifyByCF(ctx, " rssmra50b17a558w ", "ca12345ab") },
			&api.RequesterEvidence{Method: api.EvidenceDocument, CF: cfMario, Document: "CA12345AB"},
			Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Exemption: fees.Exemption{Code: 9}}, 26 + 150, 3},
		{"for a family member, contestuale", func(r *rig) error { return r.flow.TapCard(ctx) }, fakeTap(nisMario, 1),
			Choice{SubjectCF: cfMaria, Types: []certificate.Type{certificate.StatoDiFamiglia, certificate.Residenza}}, 1600 + 52 + 150, 3},
		{"for someone else at the counter", func(r *rig) error { return r.flow.TapCard(ctx) }, fakeTap(nisMario, 1),
			Choice{SubjectCF: cfOther, Types: []certificate.Type{certificate.Residenza}}, 1600 + 52 + 150, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Operator)
			r.step(t, StepLogin)
			if err := r.logIn(); err != nil {
				t.Fatal(err)
			}
			r.step(t, StepIdentify)
			if err := tt.identify(r); err != nil {
				t.Fatal(err)
			}
			r.step(t, StepChoose)
			if v := r.flow.View(); v.Person.CF != cfMario || len(v.Person.Family) != 1 {
				t.Fatalf("person %+v", v.Person)
			}
			if err := r.flow.Choose(tt.choice); err != nil {
				t.Fatal(err)
			}
			r.step(t, StepReview)
			v := r.flow.View()
			if v.Preview.TotalCents != tt.wantTotal || len(v.Preview.Lines) != tt.wantLines {
				t.Fatalf("preview %+v, want total %d in %d lines", v.Preview, tt.wantTotal, tt.wantLines)
			}
			if err := r.flow.Confirm(ctx); err != nil {
				t.Fatal(err)
			}
			r.step(t, StepDone)
			v = r.flow.View()
			if v.Result == nil || v.Result.Issued == nil || v.Result.Issued.TotalCents != v.Preview.TotalCents {
				t.Fatalf("result %+v; preview said %d", v.Result, v.Preview.TotalCents)
			}
			if len(r.hub.issued) != 1 || r.hub.issued[0].SubjectCF != tt.choice.SubjectCF ||
				r.hub.issued[0].Channel != certificate.Counter || r.hub.issued[0].Key == "" {
				t.Fatalf("hub got %+v", r.hub.issued)
			}
			// The look-up and the request carry the same evidence, the
			// one the card or the operator gave; the outbox wrote it with
			// the request.
			if len(r.hub.lookups) != 1 || !reflect.DeepEqual(r.hub.lookups[0].Requester, *tt.evidence) {
				t.Errorf("look-ups %+v, want one with %+v", r.hub.lookups, tt.evidence)
			}
			if !reflect.DeepEqual(r.hub.issued[0].Requester, tt.evidence) || !reflect.DeepEqual(r.out.queued[0].Requester, tt.evidence) {
				t.Errorf("request sent with evidence %+v, queued with %+v; want %+v", r.hub.issued[0].Requester, r.out.queued[0].Requester, tt.evidence)
			}
			if len(r.prn.a4) != 1 || len(r.prn.receipts) != 1 {
				t.Fatalf("printed %d A4 and %d receipts", len(r.prn.a4), len(r.prn.receipts))
			}
			rc := r.prn.receipts[0]
			if rc.Total() != tt.wantTotal || rc.Certificates[0].Protocol != "2026/0000001" || len(rc.Certificates) != len(tt.choice.Types) {
				t.Errorf("receipt %+v", rc)
			}
			// Reprint sends both again, and the hub is not asked twice.
			if err := r.flow.Reprint(ctx); err != nil {
				t.Fatal(err)
			}
			if len(r.prn.a4) != 2 || len(r.prn.receipts) != 2 || len(r.hub.issued) != 1 {
				t.Errorf("after reprint: %d A4, %d receipts, %d issued", len(r.prn.a4), len(r.prn.receipts), len(r.hub.issued))
			}
			r.flow.Next()
			r.step(t, StepIdentify)
			if v := r.flow.View(); v.Person != nil || v.Result != nil || v.Staff == nil {
				t.Errorf("next customer kept %+v", v)
			}
		})
	}
}

func TestOperatorRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(r *rig)
		act     func(r *rig) error
		wantKey string
		step    Step
	}{
		{"clerk's wrong CIE PIN", nil, func(r *rig) error { return r.flow.LoginCard(ctx, "11111111") }, "cie_pin_wrong", StepLogin},
		{"clerk's PIN not 8 digits", nil, func(r *rig) error { return r.flow.LoginCard(ctx, "2468") }, "cie_pin_format", StepLogin},
		{"clerk not enabled here", func(r *rig) {
			r.hub.clerkRefuse = &Refusal{Status: 403, Reason: api.ReasonClerkNotEnabled, Message: "not a clerk of this shop"}
		}, func(r *rig) error { return r.flow.LoginCard(ctx, "12345678") }, "hub_clerk_not_enabled", StepLogin},
		{"clerk suspended", func(r *rig) {
			r.hub.clerkRefuse = &Refusal{Status: 403, Reason: api.ReasonClerkSuspended, Message: "suspended"}
		}, func(r *rig) error { return r.flow.LoginCard(ctx, "12345678") }, "hub_clerk_suspended", StepLogin},
		{"hub offline at log-in", func(r *rig) { r.hub.offline = true }, func(r *rig) error { return r.flow.LoginCard(ctx, "12345678") }, "clerk_offline", StepLogin},
		{"password log-in without a code", nil, func(r *rig) error { return r.flow.LoginPassword(ctx, cfMaria, "secret password", "") }, "clerk_password_format", StepLogin},
		{"session ended by the hub", func(r *rig) {
			reviewed(r)
			r.hub.refuse = &Refusal{Status: 403, Reason: api.ReasonClerkSuspended, Message: "suspended"}
		}, func(r *rig) error { return r.flow.Confirm(ctx) }, "hub_clerk_suspended", StepLogin},
		{"bad codice fiscale", login, func(r *rig) error { return r.flow.IdentifyByCF(ctx, "RSSMRA50B17A558X", "CA12345AB") }, "cf_invalid", StepIdentify},
		{"no document", login, func(r *rig) error { return r.flow.IdentifyByCF(ctx, cfMario, "") }, "document_missing", StepIdentify},
		{"document not matching", login, func(r *rig) error { return r.flow.IdentifyByCF(ctx, cfMario, "CA99999ZZ") }, "hub_not_found", StepIdentify},
		{"cloned card", func(r *rig) { login(r); r.reader.err = problem("card_not_genuine", "cloned", nil) },
			func(r *rig) error { return r.flow.TapCard(ctx) }, "card_not_genuine", StepIdentify},
		{"no card in time", func(r *rig) { login(r); r.reader.err = context.DeadlineExceeded },
			func(r *rig) error { return r.flow.TapCard(ctx) }, "card_timeout", StepIdentify},
		// With the hub away a new customer is served offline (offline.go),
		// once the kiosk has checked their evidence itself.
		{"hub offline, document number malformed", func(r *rig) { login(r); r.hub.offline = true },
			func(r *rig) error { return r.flow.IdentifyByCF(ctx, cfMario, "CA99999") }, "offline_document_format", StepIdentify},
		{"no certificate chosen", identified, func(r *rig) error { return r.flow.Choose(Choice{SubjectCF: cfMario}) }, "no_type", StepChoose},
		{"exemption 99 without text", identified, func(r *rig) error {
			return r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Exemption: fees.Exemption{Code: 99}})
		}, "fee_exemption_reason_missing", StepChoose},
		{"exemption 10 at a shop", identified, func(r *rig) error {
			return r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Exemption: fees.Exemption{Code: 10}})
		}, "fee_exemption_not_allowed", StepChoose},
		{"hub refuses", func(r *rig) {
			reviewed(r)
			r.hub.refuse = &Refusal{Status: 422, Reason: "not_eligible", Message: "not resident"}
		}, func(r *rig) error { return r.flow.Confirm(ctx) }, "hub_not_eligible", StepReview},
		{"A4 printer fails after issue", func(r *rig) { reviewed(r); r.prn.a4Err = errors.New("paper out") },
			func(r *rig) error { return r.flow.Confirm(ctx) }, "print_a4_failed", StepDone},
		{"offline and the outbox full", func(r *rig) { reviewed(r); r.hub.offline = true; r.out.full = true },
			func(r *rig) error { return r.flow.Confirm(ctx) }, "queue_refused", StepReview},
		{"action on the wrong screen", nil, func(r *rig) error { return r.flow.Confirm(ctx) }, "wrong_step", StepLogin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Operator)
			if tt.setup != nil {
				tt.setup(r)
			}
			err := tt.act(r)
			var p *Problem
			if !errors.As(err, &p) || p.Key != tt.wantKey {
				t.Fatalf("error %v (key %v), want key %s", err, p, tt.wantKey)
			}
			r.step(t, tt.step)
			if tt.wantKey != "wrong_step" {
				if v := r.flow.View(); v.Problem == nil || v.Problem.Key != tt.wantKey {
					t.Errorf("view shows problem %v", v.Problem)
				}
			}
		})
	}
}

func login(r *rig) {
	if err := r.logIn(); err != nil {
		panic(err)
	}
}

func identified(r *rig) {
	login(r)
	if err := r.flow.TapCard(ctx); err != nil {
		panic(err)
	}
}

func reviewed(r *rig) {
	identified(r)
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		panic(err)
	}
}

// The clerk logs in with their own card and PIN: the hub gets the tap with
// the PIN proved, the view names the clerk; log-out forgets them at the hub
// client at once.
func TestClerkLoginWithCard(t *testing.T) {
	r := newRig(t, Operator)
	if err := r.flow.LoginCard(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepIdentify)
	if len(r.hub.logins) != 1 || r.hub.logins[0].CIE == nil || !r.hub.logins[0].CIE.PINProved || r.hub.logins[0].CIE.NIS != nisMario || r.hub.logins[0].CF != "" {
		t.Fatalf("log-ins sent %+v", r.hub.logins)
	}
	if v := r.flow.View(); v.Staff == nil || v.Staff.ID != "cl-0001" || v.Staff.Name != "Anna Bianchi" {
		t.Errorf("view's clerk %+v", v.Staff)
	}
	r.flow.Logout()
	r.step(t, StepLogin)
	if r.hub.logouts != 1 || r.flow.View().Staff != nil {
		t.Errorf("after log-out: %d hub log-outs, clerk %+v", r.hub.logouts, r.flow.View().Staff)
	}
	// A wrong PIN sends nothing to the hub.
	if err := r.flow.LoginCard(ctx, "00000000"); err == nil || len(r.hub.logins) != 1 {
		t.Errorf("wrong PIN: %v, %d log-ins sent", err, len(r.hub.logins))
	}
}

func TestClerkLoginWithPassword(t *testing.T) {
	r := newRig(t, Operator)
	if err := r.flow.LoginPassword(ctx, " mrtmra83t56a269b ", "una password lunga", "123456"); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepIdentify)
	if len(r.hub.logins) != 1 || r.hub.logins[0].CIE != nil || r.hub.logins[0].CF != cfMaria || r.hub.logins[0].TOTP != "123456" || r.reader.taps != 0 {
		t.Fatalf("log-ins sent %+v, %d taps", r.hub.logins, r.reader.taps)
	}
}

func TestOfflineQueuesWithClaimCode(t *testing.T) {
	r := newRig(t, Operator)
	reviewed(r)
	key := r.flow.key
	r.hub.offline = true
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepDone)
	v := r.flow.View()
	if v.Result == nil || v.Result.Claim != "CLAIM1" || v.Result.Issued != nil {
		t.Fatalf("result %+v", v.Result)
	}
	if len(r.out.queued) != 1 || r.out.queued[0].Key != key || r.out.amount != 1600+52+150 {
		t.Fatalf("queued %+v amount %d", r.out.queued, r.out.amount)
	}
	if v.Status.HubOnline || v.Status.Queued != 1 {
		t.Errorf("status %+v", v.Status)
	}
	if len(r.prn.a4) != 0 {
		t.Error("printed a certificate that was not issued")
	}
	s, _ := r.flow.Summary()
	if s.Queued != 1 || s.Transactions != 1 {
		t.Errorf("summary %+v", s)
	}
}

// TestRefusedThenRetried: a refusal is the hub's decision, made before
// anything was issued: the request is dropped from the outbox (only its
// reason code is kept), the day's account leaves it out, and a retry is a
// new request under a new key.
func TestRefusedThenRetried(t *testing.T) {
	r := newRig(t, Operator)
	reviewed(r)
	first := r.flow.key
	r.hub.refuse = &Refusal{Status: 422, Reason: "not_eligible", Message: "not resident"}
	if err := r.flow.Confirm(ctx); err == nil {
		t.Fatal("a refused request confirmed")
	}
	r.hub.refuse = nil
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.hub.issued) != 1 || r.hub.issued[0].Key == first || len(r.out.queued) != 2 || r.out.queued[0].Key != first {
		t.Fatalf("issued %+v after writing %+v", r.hub.issued, r.out.queued)
	}
	if n, _ := r.out.Pending(); n != 0 {
		t.Errorf("%d requests left pending", n)
	}
	if s, _ := r.flow.Summary(); s.Transactions != 1 || s.Refused != 0 || s.RefusedCents != 0 || s.Certificates != 1 {
		t.Errorf("the day's account counts the refusal at the counter: %+v", s)
	}
}

// TestConfirmJournalsBeforeSending: when the first byte goes to the hub,
// the request is already in the outbox under the key it is sent with, and
// its sale in the day's journal.
func TestConfirmJournalsBeforeSending(t *testing.T) {
	r := newRig(t, Operator)
	reviewed(r)
	var steps []string
	r.flow.deps.Checkpoint = func(s string) { steps = append(steps, s) }
	r.hub.onIssue = func(req IssueRequest) {
		code, ok := r.out.codes[req.Key]
		if !ok {
			t.Errorf("the hub got request %s before the outbox had it", req.Key)
		}
		sales, _ := r.journal.Since(time.Time{})
		if len(sales) != 1 || sales[0].Claim != code {
			t.Errorf("the hub got the request before the day's journal had it: %+v", sales)
		}
		steps = append(steps, "sent")
	}
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(steps, []string{"journal", "sent", "delivered"}) {
		t.Errorf("steps %v", steps)
	}
	if len(r.prn.a4) != 1 || len(r.prn.receipts) != 1 {
		t.Errorf("printed %d A4 and %d receipts", len(r.prn.a4), len(r.prn.receipts))
	}
	if jobs, _ := r.prn.Spooled(); len(jobs) != 0 {
		t.Errorf("printed jobs left in the spool: %+v", jobs)
	}
}

// TestOnlinePastOfflineLimits: the outbox's offline limits refuse a request
// while the hub is away, not while it answers.
func TestOnlinePastOfflineLimits(t *testing.T) {
	r := newRig(t, Operator)
	reviewed(r)
	r.out.full = true
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if v := r.flow.View(); v.Result == nil || v.Result.Issued == nil || len(r.hub.issued) != 1 {
		t.Fatalf("with the hub online and the offline queue full: %+v", v.Result)
	}
	// A journal that cannot be written sends nothing.
	r.flow.Next()
	reviewed2 := func() {
		r.flow.TapCard(ctx)
		r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}})
	}
	reviewed2()
	r.out.full = false
	r.out.fail = errors.New("disk full")
	err := r.flow.Confirm(ctx)
	var p *Problem
	if !errors.As(err, &p) || p.Key != "journal_failed" || len(r.hub.issued) != 1 {
		t.Fatalf("a failed journal write: %v, %d issued", err, len(r.hub.issued))
	}
	r.step(t, StepReview)
}

// TestRecover: a kiosk that starts again after a stop finishes the request
// written but never answered (the same key: the hub answers it once),
// puts it in the day's account if the stop came before its line, prints
// what the spool holds but for the job that was printing at the stop, and
// says so.
func TestRecover(t *testing.T) {
	r := newRig(t, Operator)
	req := IssueRequest{Key: "kiosk-left", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter}
	claim, _ := r.out.Enqueue(ctx, req, 1802, false)
	r.prn.spool.Put(printer.Job{ID: "old-a4", Name: "certificato 2026/0000099", Format: printer.FormatPDF, Data: []byte("%PDF-1.7 99"), Created: testNow.Add(-time.Minute)})
	r.prn.spool.Put(printer.Job{ID: "old-rc", Name: "ricevuta 2026/0000099", Format: printer.FormatPDF, Data: []byte("%PDF-1.7 was printing"),
		Created: testNow.Add(-time.Minute), Started: testNow.Add(-time.Minute)})
	rec, err := r.flow.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Issued) != 1 || rec.Issued[0].Claim != claim || rec.Issued[0].Protocol != "2026/0000001" || len(r.hub.issued) != 1 || r.hub.issued[0].Key != req.Key {
		t.Fatalf("recovered %+v; the hub issued %+v", rec, r.hub.issued)
	}
	if len(r.prn.a4) != 2 || len(r.prn.receipts) != 1 || !slices.Contains(rec.Printed, "certificato 2026/0000099") ||
		!slices.Equal(rec.Uncertain, []string{"ricevuta 2026/0000099"}) {
		t.Errorf("printed %d A4, %d receipts; recovered %+v", len(r.prn.a4), len(r.prn.receipts), rec)
	}
	if jobs, _ := r.prn.Spooled(); len(jobs) != 1 || jobs[0].ID != "old-rc" {
		t.Errorf("the spool holds %+v, want only the job that was printing", jobs)
	}
	if v := r.flow.View(); v.Recovered == nil || len(v.Recovered.Issued) != 1 {
		t.Errorf("the screen does not say what was finished: %+v", v.Recovered)
	}
	s, _ := r.flow.Summary()
	if s.Transactions != 1 || s.Certificates != 1 || len(s.Protocols) != 1 {
		t.Errorf("the recovered sale in the day's account: %+v", s)
	}
	// The report stays across customers until the operator dismisses it.
	login(r)
	if v := r.flow.View(); v.Recovered == nil {
		t.Error("the report went with the log-in")
	}
	r.flow.DismissRecovered()
	if v := r.flow.View(); v.Recovered != nil {
		t.Error("the report stays after it was dismissed")
	}
	// With the hub away the request waits, and the report says so.
	r2 := newRig(t, Operator)
	claim2, _ := r2.out.Enqueue(ctx, req, 1802, false)
	r2.hub.offline = true
	rec2, err := r2.flow.Recover(ctx)
	if err != nil || !slices.Equal(rec2.Queued, []string{claim2}) || len(rec2.Issued) != 0 {
		t.Errorf("recovering with the hub away: %+v %v", rec2, err)
	}
}

func TestDaySummary(t *testing.T) {
	r := newRig(t, Operator)
	login(r)
	sales := []Choice{
		{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}},
		{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia}, Exemption: fees.Exemption{Code: 7}},
		{SubjectCF: cfMario, Types: []certificate.Type{certificate.Nascita}},
	}
	var want Summary
	for _, c := range sales {
		if err := r.flow.TapCard(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.flow.Choose(c); err != nil {
			t.Fatal(err)
		}
		b := r.flow.View().Preview
		for _, l := range b.Lines {
			switch l.Kind {
			case fees.Bollo:
				want.State += l.Cents
			case fees.Diritti:
				want.City += l.Cents
			case fees.Service:
				want.Shop += l.Cents
			}
		}
		want.Collected += b.TotalCents
		want.Certificates += len(c.Types)
		if err := r.flow.Confirm(ctx); err != nil {
			t.Fatal(err)
		}
		r.flow.Next()
	}
	// Yesterday's sale is not today's.
	r.journal.Append(Sale{Time: testNow.Add(-24 * time.Hour), Types: []string{"residenza"}, Fees: []fees.Line{{Kind: fees.Bollo, Cents: 1600}}, Total: 1600})
	if err := r.flow.ShowSummary(); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepSummary)
	s := r.flow.View().Summary
	if s.Transactions != 3 || s.Certificates != want.Certificates || s.Collected != want.Collected ||
		s.State != want.State || s.City != want.City || s.Shop != want.Shop || s.ByType["residenza"] != 2 {
		t.Fatalf("summary %+v, want %+v", s, want)
	}
	if s.State+s.City+s.Shop != s.Collected {
		t.Errorf("the shares %d+%d+%d do not add up to %d", s.State, s.City, s.Shop, s.Collected)
	}
	// The birth certificate is in bollo, as ANPR issues it (a city may
	// exempt it); the exempt contestuale pays none.
	if s.State != 2*1600 || s.Shop != 3*150 {
		t.Errorf("bollo %d (want two: the residenza and the birth certificate; the exempt contestuale pays none), service %d", s.State, s.Shop)
	}
	r.flow.Back()
	r.step(t, StepIdentify)
}

func TestSelfService(t *testing.T) {
	tests := []struct {
		name    string
		pins    []string
		subject string
		wantKey string // of the last action; "" for success
		step    Step
	}{
		{"own residenza", []string{"12345678"}, cfMario, "", StepDone},
		{"for the spouse", []string{"12345678"}, cfMaria, "", StepDone},
		{"not family", []string{"12345678"}, cfOther, "subject_not_family", StepChoose},
		{"wrong PIN then right", []string{"00000000", "12345678"}, cfMario, "", StepDone},
		{"PIN too short", []string{"1234"}, "", "cie_pin_format", StepPIN},
		{"PIN blocked after three wrong", []string{"00000000", "00000000", "00000000"}, "", "cie_pin_blocked", StepStart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, SelfService)
			r.step(t, StepStart)
			if err := r.flow.SetLang(English); err != nil {
				t.Fatal(err)
			}
			if err := r.flow.TapCard(ctx); err != nil {
				t.Fatal(err)
			}
			r.step(t, StepPIN)
			var err error
			for _, pin := range tt.pins {
				err = r.flow.EnterPIN(ctx, pin)
			}
			if err == nil && tt.subject != "" {
				if err = r.flow.Choose(Choice{SubjectCF: tt.subject, Types: []certificate.Type{certificate.Residenza}}); err == nil {
					if v := r.flow.View(); v.Preview.TotalCents != 1600+52 {
						t.Errorf("self-service preview %d: no service fee expected", v.Preview.TotalCents)
					}
					if err = r.flow.Confirm(ctx); err == nil {
						// Nothing issued before it is paid.
						if len(r.hub.issued) != 0 || len(r.prn.a4) != 0 {
							t.Fatalf("issued %d, printed %d before the payment", len(r.hub.issued), len(r.prn.a4))
						}
						r.payLast(t)
					}
				}
			}
			var p *Problem
			switch {
			case tt.wantKey == "" && err != nil:
				t.Fatal(err)
			case tt.wantKey != "" && (!errors.As(err, &p) || p.Key != tt.wantKey):
				t.Fatalf("error %v, want key %s", err, tt.wantKey)
			}
			r.step(t, tt.step)
			if tt.step == StepDone {
				if got := r.hub.issued[0]; got.Channel != certificate.SelfService {
					t.Errorf("request %+v", got)
				}
				// The card took the citizen's PIN: the hub is told so, with
				// the tap, on the look-up and on the request.
				want := fakeTap(nisMario, 1)
				want.PINProved = true
				if got := r.hub.issued[0].Requester; !reflect.DeepEqual(got, want) {
					t.Errorf("request's evidence %+v, want %+v", got, want)
				}
				if got := r.hub.lookups[len(r.hub.lookups)-1].Requester; !reflect.DeepEqual(got, *want) {
					t.Errorf("look-up's evidence %+v, want %+v", got, want)
				}
				if r.prn.receipts[0].Lang != receipt.English {
					t.Errorf("receipt in %s, the citizen chose English", r.prn.receipts[0].Lang)
				}
			}
		})
	}
}

func TestIdleTimeoutWipes(t *testing.T) {
	r := newRig(t, SelfService)
	r.flow.SetLang(English)
	r.flow.TapCard(ctx)
	r.flow.EnterPIN(ctx, "12345678")
	r.step(t, StepChoose)
	tap := r.flow.requester
	if tap == nil || tap.NIS != nisMario {
		t.Fatalf("the visit's evidence is %+v", tap)
	}
	response := tap.Response
	r.clock.Add(59 * time.Second)
	if r.flow.Tick() {
		t.Fatal("wiped before the timeout")
	}
	r.flow.Touch()
	r.clock.Add(59 * time.Second)
	if r.flow.Tick() {
		t.Fatal("activity did not restart the idle timer")
	}
	r.clock.Add(time.Second)
	if !r.flow.Tick() {
		t.Fatal("not wiped after the timeout")
	}
	v := r.flow.View()
	if v.Step != StepStart || v.Person != nil || v.Lang != Italian || v.Preview != nil || r.flow.requester != nil {
		t.Errorf("after the wipe: %+v evidence %+v", v, r.flow.requester)
	}
	if tap.NIS != "" || tap.PINProved || !bytes.Equal(response, make([]byte, len(response))) {
		t.Errorf("the wiped tap still holds NIS %q, PIN proved %v, the chip's answer %x", tap.NIS, tap.PINProved, response)
	}
	// The start screen itself never times out.
	r.clock.Add(time.Hour)
	if r.flow.Tick() {
		t.Error("wiped the start screen")
	}

	// An operator is logged out after a longer idle time.
	o := newRig(t, Operator)
	login(o)
	o.clock.Add(14 * time.Minute)
	if o.flow.Tick() {
		t.Fatal("operator logged out early")
	}
	o.clock.Add(time.Minute)
	if !o.flow.Tick() || o.flow.View().Step != StepLogin || o.flow.View().Staff != nil {
		t.Fatalf("operator not logged out: %+v", o.flow.View())
	}
}

func TestOnChangeAndSnapshots(t *testing.T) {
	r := newRig(t, Operator)
	n := 0
	r.flow.OnChange = func() { n++ }
	identified(r)
	if n == 0 {
		t.Fatal("OnChange never called")
	}
	v := r.flow.View()
	v.Person.Family[0].CF = "changed"
	if r.flow.View().Person.Family[0].CF == "changed" {
		t.Error("View shares the family slice with the flow")
	}
}

func TestRefreshStatus(t *testing.T) {
	r := newRig(t, Operator)
	st := r.flow.RefreshStatus(ctx)
	if !st.HubOnline || !st.HubChecked {
		t.Errorf("status %+v", st)
	}
	r.hub.offline = true
	r.out.pending = append(r.out.pending, "kiosk-x")
	if st := r.flow.RefreshStatus(ctx); st.HubOnline || st.Queued != 1 {
		t.Errorf("offline status %+v", st)
	}
}

func TestNewRejects(t *testing.T) {
	deps := Deps{Hub: newFakeHub(testNow), Reader: &fakeReader{}, Printers: &fakePrinters{}}
	for _, cfg := range []Config{
		{Mode: "kiosk", Shop: "x"},
		{Mode: Operator, Shop: "x"},
		{Mode: SelfService},
	} {
		if _, err := New(cfg, deps); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := New(Config{Mode: SelfService, Shop: "x"}, Deps{}); err == nil {
		t.Error("New without dependencies accepted")
	}
}

func TestFileJournal(t *testing.T) {
	j := &FileJournal{Path: t.TempDir() + "/sales.jsonl"}
	if s, err := j.Since(testNow); err != nil || len(s) != 0 {
		t.Fatalf("empty journal: %v %v", s, err)
	}
	for i, d := range []time.Duration{-25 * time.Hour, 0, time.Minute} {
		if err := j.Append(Sale{Time: testNow.Add(d), Protocol: string(rune('a' + i)), Types: []string{"residenza"}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Since(startOfDay(testNow))
	if err != nil || len(got) != 2 || got[0].Protocol != "b" {
		t.Fatalf("since today: %+v %v", got, err)
	}
	types := Summarise(startOfDay(testNow), got).TypesSorted()
	if !slices.Equal(types, []string{"residenza"}) {
		t.Errorf("types %v", types)
	}
}

// TestConcurrentUse: the UI reads views, ticks and refreshes the status bar
// while an action runs on another goroutine (run with -race).
func TestConcurrentUse(t *testing.T) {
	r := newRig(t, Operator)
	reviewed(r)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				_ = r.flow.View()
				r.flow.Tick()
				r.flow.Touch()
			}
		}
	}()
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	r.flow.RefreshStatus(ctx)
	close(stop)
	<-done
	r.step(t, StepDone)
}

// TestEvidenceIsTheVisits: the evidence that identified a citizen goes
// with every request of their visit, the one queued while the hub is away
// included, and is forgotten with them: the next customer's requests carry
// the next customer's evidence only, and the first tap's bytes are
// overwritten.
func TestEvidenceIsTheVisits(t *testing.T) {
	r := newRig(t, Operator)
	reviewed(r) // customer A: a CIE tap
	tapA := r.flow.requester
	answerA := tapA.Response
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	r.flow.Next()
	r.step(t, StepIdentify)
	if r.flow.requester != nil || !bytes.Equal(answerA, make([]byte, len(answerA))) {
		t.Fatalf("the next customer starts with %+v; the first tap's answer is %x", r.flow.requester, answerA)
	}
	// Customer B: codice fiscale and document; the hub goes away before
	// the request, which is queued with B's evidence.
	if err := r.flow.IdentifyByCF(ctx, cfMario, "CA12345AB"); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfMaria, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	r.hub.offline = true
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if v := r.flow.View(); v.Result == nil || v.Result.Claim == "" {
		t.Fatalf("not queued: %+v", v.Result)
	}
	docB := &api.RequesterEvidence{Method: api.EvidenceDocument, CF: cfMario, Document: "CA12345AB"}
	if len(r.out.queued) != 2 || !reflect.DeepEqual(r.out.queued[0].Requester, fakeTap(nisMario, 1)) || !reflect.DeepEqual(r.out.queued[1].Requester, docB) {
		t.Fatalf("queued %+v, want A's tap then B's document", r.out.queued)
	}
	if len(r.hub.issued) != 1 || !reflect.DeepEqual(r.hub.issued[0].Requester, fakeTap(nisMario, 1)) {
		t.Errorf("issued %+v, want A's request with A's tap", r.hub.issued)
	}
	// What the outbox keeps is its own copy: wiping the visit leaves the
	// queued request's evidence whole, for its delivery.
	r.flow.Next()
	if !reflect.DeepEqual(r.out.queued[1].Requester, docB) {
		t.Errorf("the queued request's evidence changed with the visit's wipe: %+v", r.out.queued[1].Requester)
	}
	r.hub.offline = false
	if _, err := r.out.Deliver(ctx, r.out.queued[1].Key, r.flow.Render()); err != nil {
		t.Fatal(err)
	}
	if len(r.hub.issued) != 2 || !reflect.DeepEqual(r.hub.issued[1].Requester, docB) {
		t.Errorf("delivered %+v, want B's request with B's document", r.hub.issued)
	}
}
