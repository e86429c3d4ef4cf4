package desk_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/synth"
)

var now = time.Date(2026, 12, 3, 10, 0, 0, 0, protocol.Rome)

type fixture struct {
	t    *testing.T
	iss  *issuancetest.Desk
	desk *desk.Desk
}

func newFixture(t *testing.T) *fixture {
	iss := issuancetest.New(t, 400, 7, now)
	return &fixture{t: t, iss: iss, desk: &desk.Desk{Stores: iss.Service.Stores, Issuance: iss.Service, Street: synth.DefaultCity().Street, Now: iss.Service.Now}}
}

// adult is an identifiable adult resident with a famiglia, not AIRE.
func (f *fixture) adult() *registry.Person {
	f.t.Helper()
	for _, cf := range f.iss.Identifiable(f.t, 40) {
		p := f.person(cf)
		if p.BirthDate.AgeAt(registry.DateOf(now)) >= 25 && p.Family != 0 && p.ProcedureOpen.IsZero() {
			return p
		}
	}
	f.t.Fatal("no adult resident")
	return nil
}

func (f *fixture) person(cf string) *registry.Person {
	f.t.Helper()
	var p *registry.Person
	err := f.iss.Store.View(context.Background(), func(r registry.Reader) (err error) { p, err = r.PersonByCF(cf); return err })
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) counter(cf string) desk.Filing {
	return desk.Filing{Channel: certificate.Counter, Evidence: f.iss.Evidence(f.t, cf), OperatorID: "op-1",
		Actor: audit.Actor{Kind: audit.Operator, ID: "op-1"}}
}

func reason(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Reason
	}
	if r, ok := certificate.AsRefusal(err); ok {
		return r.Reason
	}
	return ""
}

func (f *fixture) residenza(cf string) (issuance.Result, error) {
	return f.iss.Service.Issue(context.Background(), issuance.Request{SubjectCF: cf, Types: []string{"residenza"}, Channel: certificate.Counter,
		Evidence: f.iss.Evidence(f.t, cf), Actor: audit.Actor{Kind: audit.Operator, ID: "op-1"}, Operator: issuance.Operator{ID: "op-1"}})
}

func fact(rec certificate.Record, key string) string {
	for _, f := range rec.Facts {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// TestAcceptedAddressChangeShowsOnTheNextCertificate is issue 17's
// done-when: a change of address filed at a counter gets a protocol
// number and the hash of what was filed; while it is open no residence
// certificate is issued; accepted in the console's step, the next
// residence certificate shows the new address, and the registry keeps the
// old one in the person's history.
func TestAcceptedAddressChangeShowsOnTheNextCertificate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.adult()
	before, err := f.residenza(p.CF)
	if err != nil {
		t.Fatal(err)
	}
	oldAddr := fact(before.Record, "residenza")
	street := synth.DefaultCity().Streets[3].Name
	fl := f.counter(p.CF)
	fl.Kind = request.AddressChange
	fl.Form = request.Form{Address: &request.AddressForm{Persons: []string{p.CF}, NewAddress: request.NewAddress{Street: street, Number: "221B"}, Statement: true}}
	fl.IdempotencyKey = "op-1/req-1"
	rec, replayed, err := f.desk.File(ctx, fl)
	if err != nil || replayed {
		t.Fatalf("file: %v (replayed %v)", err, replayed)
	}
	if rec.Protocol == "" || rec.Status != request.Filed || rec.RegisterBy.IsZero() || rec.SilenceAssent.IsZero() {
		t.Fatalf("filed as %+v", rec)
	}
	want := request.Filing{Kind: request.AddressChange, RequesterCF: p.CF, Channel: "counter", Form: fl.Form, Attachments: []request.Attachment{}}.Hash()
	if rec.SHA256 != want {
		t.Errorf("hash %s, want that of the canonical filing %s", rec.SHA256, want)
	}
	n, _ := protocol.ParseNumber(rec.Protocol)
	var entry protocol.Entry
	_ = f.desk.Stores.View(ctx, func(tx store.Tx) (err error) { entry, err = tx.Protocol().Get(n); return err })
	if entry.Direction != protocol.Incoming || hex.EncodeToString(entry.DocSHA256[:]) != rec.SHA256 || entry.Ref != rec.ID {
		t.Errorf("protocol entry %+v", entry)
	}
	// The same filing again is the same request, with no new number.
	again, replayed, err := f.desk.File(ctx, fl)
	if err != nil || !replayed || again.ID != rec.ID {
		t.Errorf("retry: %s replayed %v, %v", again.ID, replayed, err)
	}
	if got := f.person(p.CF).ProcedureOpen; got.IsZero() {
		t.Error("the person's record carries no open procedure while the change is examined")
	}
	if _, err := f.residenza(p.CF); reason(err) != certificate.ReasonOpenProcedure {
		t.Errorf("residence certificate while the change is open: %v, want %s", err, certificate.ReasonOpenProcedure)
	}
	staff := desk.Staff{User: "mrossi"}
	if _, err := f.desk.Accept(ctx, rec.ID, rec.Version+5, staff, ""); !errors.Is(err, request.ErrStale) {
		t.Errorf("accept on a stale page: %v, want ErrStale", err)
	}
	acc, err := f.desk.Accept(ctx, rec.ID, rec.Version, staff, "verificato dalla polizia locale")
	if err != nil {
		t.Fatal(err)
	}
	if acc.Status != request.Accepted || len(acc.History) != 2 {
		t.Errorf("accepted as %s with %d events", acc.Status, len(acc.History))
	}
	after, err := f.residenza(p.CF)
	if err != nil {
		t.Fatalf("residence certificate after acceptance: %v", err)
	}
	newAddr := fact(after.Record, "residenza")
	if !strings.Contains(newAddr, street) || !strings.Contains(newAddr, "221B") || newAddr == oldAddr {
		t.Errorf("after the change the certificate says %q (before %q), want %s 221B", newAddr, oldAddr, street)
	}
	q := f.person(p.CF)
	if n := len(q.Residences); n < 2 || q.Residences[n-2].To.IsZero() || q.Residences[n-1].Address.Street != street {
		t.Errorf("residence history %+v", q.Residences)
	}
	if _, err := f.desk.Refuse(ctx, rec.ID, acc.Version, staff, "troppo tardi"); !errors.Is(err, request.ErrTransition) {
		t.Errorf("refusing an accepted request: %v, want ErrTransition", err)
	}
	// The audit log has the filing's and the decision's entries.
	var entries []audit.Entry
	_ = f.desk.Stores.View(ctx, func(tx store.Tx) error {
		return tx.Audit().Search(audit.Query{Subject: p.CF}, func(e audit.Entry) (bool, error) {
			if e.Request == rec.ID {
				entries = append(entries, e)
			}
			return true, nil
		})
	})
	if len(entries) != 2 {
		t.Errorf("%d audit entries for the request, want 2 (filed, accepted)", len(entries))
	}
	// The dossier's list.
	list, err := request.OfPerson(ctx, store.Domain(f.desk.Stores, store.Tx.Requests), p.CF)
	if err != nil || len(list) != 1 || list[0].Status != request.Accepted {
		t.Errorf("the person's requests: %+v %v", list, err)
	}
}

// TestBadFilingsLeaveNothing: refusals carry a reason and an Italian
// sentence and take no protocol number.
func TestBadFilingsLeaveNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.adult()
	var last protocol.Number
	lastNumber := func() protocol.Number {
		var n protocol.Number
		_ = f.desk.Stores.View(ctx, func(tx store.Tx) (err error) { n, err = tx.Protocol().Last(now.Year()); return err })
		return n
	}
	last = lastNumber()
	street := synth.DefaultCity().Streets[0].Name
	addr := func(persons []string, s, num string, stmt bool) request.Form {
		return request.Form{Address: &request.AddressForm{Persons: persons, NewAddress: request.NewAddress{Street: s, Number: num}, Statement: stmt}}
	}
	stranger := ""
	for _, cf := range f.iss.Residents {
		if q := f.person(cf); q.Family != p.Family && q.Family != 0 {
			stranger = cf
			break
		}
	}
	for name, c := range map[string]struct {
		kind  request.Kind
		form  request.Form
		files []request.File
		want  string
	}{
		"a street the city has not": {request.AddressChange, addr([]string{p.CF}, "Via Che Non Esiste", "1", true), nil, request.ReasonAddressUnknown},
		"no civic number":           {request.AddressChange, addr([]string{p.CF}, street, "", true), nil, request.ReasonFieldMissing},
		"no statement":              {request.AddressChange, addr([]string{p.CF}, street, "3", false), nil, request.ReasonStatementMissing},
		"nobody moving":             {request.AddressChange, addr(nil, street, "3", true), nil, request.ReasonFieldMissing},
		"someone else's family":     {request.AddressChange, addr([]string{stranger}, street, "3", true), nil, request.ReasonNotHousehold},
		"a DAT with no document":    {request.DAT, request.Form{DAT: &request.DATForm{DocumentDate: "2026-11-01", Statement: true}}, nil, request.ReasonAttachmentRequired},
		"a correction with a text file": {request.Correction, request.Form{Correction: &request.CorrectionForm{SubjectCF: p.CF, Field: request.FieldEmail, Correct: "a@b.it", Reason: "nuovo indirizzo"}},
			[]request.File{{Name: "doc.pdf", Data: []byte("just text")}}, request.ReasonAttachmentType},
		"a correction to the same value": {request.Correction, request.Form{Correction: &request.CorrectionForm{SubjectCF: p.CF, Field: request.FieldSurname, Correct: p.Surname, Reason: "errore"}},
			[]request.File{{Name: "doc.pdf", Data: []byte("%PDF-1.4 atto")}}, request.ReasonContradictory},
		"a residence change from this comune": {request.ResidenceChange, request.Form{Residence: &request.ResidenceForm{Origin: request.FromComune, OriginPlace: "F205",
			Persons: []request.Mover{{CF: p.CF}}, NewAddress: request.NewAddress{Street: street, Number: "1"}, Statement: true}}, nil, request.ReasonContradictory},
		"a convivenza with oneself":              {request.Cohabitation, request.Form{Cohabit: &request.CohabitForm{Action: request.CohabitStart, Partners: [2]string{p.CF, p.CF}, Statement: true}}, nil, request.ReasonContradictory},
		"a historical certificate in the future": {request.Historical, request.Form{Historical: &request.HistoricalForm{SubjectCF: p.CF, What: "stato_di_famiglia", Date: "2030-01-01", Purpose: "successione"}}, nil, request.ReasonFieldInvalid},
	} {
		fl := f.counter(p.CF)
		fl.Kind, fl.Form, fl.Files = c.kind, c.form, c.files
		_, _, err := f.desk.File(ctx, fl)
		if reason(err) != c.want {
			t.Errorf("%s: %v (reason %q), want %s", name, err, reason(err), c.want)
			continue
		}
		if msg := err.Error(); msg == c.want || strings.Contains(msg, "the ") || strings.Contains(msg, " is ") {
			t.Errorf("%s: %q does not read as Italian", name, msg)
		}
	}
	if got := lastNumber(); !got.Same(last) {
		t.Errorf("refused filings took protocol numbers: last %s, was %s", got, last)
	}
	if rs, _ := f.desk.Queue(ctx, ""); len(rs) != 0 {
		t.Errorf("%d requests stored after refusals", len(rs))
	}
	if !f.person(p.CF).ProcedureOpen.IsZero() {
		t.Error("a refused filing marked the person")
	}
}

// TestAskAnswerRefuse: the office asks for more, the citizen answers with
// a document at a counter, the office refuses with reasons: the open
// procedure is lifted, and the requester got a notice at each step.
func TestAskAnswerRefuse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.adult()
	fl := f.counter(p.CF)
	fl.Kind = request.AddressChange
	fl.Form = request.Form{Address: &request.AddressForm{Persons: []string{p.CF}, NewAddress: request.NewAddress{Street: synth.DefaultCity().Streets[5].Name, Number: "7"}, Statement: true}}
	rec, _, err := f.desk.File(ctx, fl)
	if err != nil {
		t.Fatal(err)
	}
	staff := desk.Staff{User: "lbianchi"}
	if rec, err = f.desk.Assign(ctx, rec.ID, rec.Version, staff, "lbianchi"); err != nil || rec.AssignedTo != "lbianchi" {
		t.Fatalf("assign: %v", err)
	}
	if _, err := f.desk.Ask(ctx, rec.ID, rec.Version, staff, "ok"); reason(err) != request.ReasonDecisionMissing {
		t.Errorf("a question of two letters: %v", err)
	}
	if rec, err = f.desk.Ask(ctx, rec.ID, rec.Version, staff, "Alleghi il contratto di locazione."); err != nil || rec.Status != request.MoreInfo {
		t.Fatalf("ask: %v %s", err, rec.Status)
	}
	if _, err := f.desk.Accept(ctx, rec.ID, rec.Version, staff, ""); !errors.Is(err, request.ErrTransition) {
		t.Errorf("accepting while waiting for the answer: %v", err)
	}
	ans := desk.Answer{Text: "Ecco il contratto.", Files: []request.File{{Name: "contratto.pdf", Data: []byte("%PDF-1.7 contratto")}},
		Channel: certificate.Counter, Evidence: f.iss.Evidence(t, p.CF), Actor: audit.Actor{Kind: audit.Operator, ID: "op-1"}}
	if rec, err = f.desk.Answer(ctx, rec.ID, ans); err != nil || rec.Status != request.Filed {
		t.Fatalf("answer: %v", err)
	}
	if _, data, err := f.desk.Attachment(ctx, rec.ID, request.SumOf([]byte("%PDF-1.7 contratto"))); err != nil || string(data) != "%PDF-1.7 contratto" {
		t.Errorf("the answer's document: %q %v", data, err)
	}
	if _, err := f.desk.Answer(ctx, rec.ID, ans); !errors.Is(err, request.ErrTransition) {
		t.Errorf("a second answer nobody asked for: %v", err)
	}
	if rec, err = f.desk.Refuse(ctx, rec.ID, rec.Version, staff, "Il contratto non riguarda l'immobile indicato."); err != nil || rec.Status != request.Refused {
		t.Fatalf("refuse: %v", err)
	}
	if !f.person(p.CF).ProcedureOpen.IsZero() {
		t.Error("the open procedure stays after the refusal")
	}
	if _, err := f.residenza(p.CF); err != nil {
		t.Errorf("residence certificate after the refusal: %v", err)
	}
	// One notice per status change to the requester: filed, asked,
	// answered, refused.
	var ids []string
	_ = f.desk.Stores.View(ctx, func(tx store.Tx) error {
		items, err := tx.Notices().List()
		for _, it := range items {
			if strings.Contains(it.ID, rec.ID) && it.Message.CF == p.CF {
				ids = append(ids, it.ID)
			}
		}
		return err
	})
	if len(ids) != 4 {
		t.Errorf("notices %v, want 4", ids)
	}
}

// TestSameKeyAtOnceFilesOnce: filings retried with one idempotency key at
// the same moment file one request; every caller gets it, and the desk
// keeps no per-key state that grows with every key ever used.
func TestSameKeyAtOnceFilesOnce(t *testing.T) {
	f := newFixture(t)
	p := f.adult()
	fl := f.counter(p.CF)
	fl.Kind = request.Historical
	fl.Form = request.Form{Historical: &request.HistoricalForm{SubjectCF: p.CF, What: "residenza", Purpose: "pratica di successione"}}
	fl.IdempotencyKey = "op-1/same"
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, _, err := f.desk.File(context.Background(), fl)
			ids[i], errs[i] = rec.ID, err
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("filing %d: %s (%v); want %s", i, ids[i], errs[i], ids[0])
		}
	}
	rs, err := f.desk.Queue(context.Background(), request.Historical)
	if err != nil || len(rs) != 1 {
		t.Fatalf("%d requests filed (%v), want 1", len(rs), err)
	}
	// Another filing under the key is a conflict, not a replay.
	fl.Form.Historical.Purpose = "altro"
	if _, _, err := f.desk.File(context.Background(), fl); err == nil {
		t.Error("a different filing under a used key was accepted")
	}
}
