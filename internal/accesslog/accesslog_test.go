package accesslog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/accesslog"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
)

var now = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)

type names map[audit.Actor]string

func (n names) Place(a audit.Actor) string { return n[a] }

var (
	kiosk   = audit.Actor{Kind: audit.Device, ID: "k-7f3a"}
	officer = audit.Actor{Kind: audit.Staff, ID: "rossi"}
	other   = audit.Actor{Kind: audit.Device, ID: "k-other"}
	places  = names{kiosk: "Edicola Centrale", officer: "Ufficio anagrafe, Comune di Milano", other: "Tabaccheria Bianchi"}
)

// The log of a person holds the reads, certificates and refusals the hub
// recorded about them in the last twelve months, newest first, named by
// shop, and nothing about anyone else.
func TestLogFromWhatTheHubRecords(t *testing.T) {
	d := issuancetest.New(t, 50, 3, now)
	cf, someoneElse := d.Residents[0], d.Residents[1]
	ctx := context.Background()
	rec := func(e audit.Entry) {
		t.Helper()
		if err := d.Audit.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	rec(audit.Entry{Time: now.AddDate(0, -13, 0), Actor: kiosk, Purpose: "identificazione", Subject: cf, Data: "nome", Channel: "counter"})
	rec(audit.Entry{Time: now.Add(-2 * time.Hour), Actor: kiosk, Purpose: "identificazione del richiedente", Subject: cf, Data: "nome, data di nascita, famiglia anagrafica", Channel: "counter",
		Clerk: audit.Clerk{ID: "clk-0001", Name: "Luca Verdi"}})
	rec(audit.Entry{Time: now.Add(-time.Hour), Actor: other, Purpose: "identificazione del richiedente", Subject: someoneElse, Data: "nome", Channel: "counter"})
	res, err := d.Issue(ctx, issuance.Request{SubjectCF: cf, Types: []string{"residenza", "stato_di_famiglia"}, Channel: certificate.Office, Actor: officer})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Issue(ctx, issuance.Request{SubjectCF: cf, Types: []string{"residenza"}, Channel: certificate.Office, Actor: officer, Exemption: fees.Exemption{Code: 99}})
	if _, ok := certificate.AsRefusal(err); !ok {
		t.Fatalf("want a refusal, got %v", err)
	}
	protocols := func(id string) (string, bool) {
		r, err := d.Certs.Get(id)
		return r.Protocol, err == nil
	}
	p, err := accesslog.Query(d.Audit, places, protocols, cf, now, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 3 || len(p.Lines) != 3 {
		t.Fatalf("%d lines, want 3 (the 13-month-old read and the other person's are not shown): %+v", p.Total, p.Lines)
	}
	// Issuance and refusal happen at the desk's clock (now), after the read.
	byKind := map[accesslog.Kind]accesslog.Line{}
	for _, l := range p.Lines {
		byKind[l.Kind] = l
	}
	c := byKind[accesslog.Certificate]
	if c.Place != "Ufficio anagrafe, Comune di Milano" || c.Clerk != "" || c.Reference != res.Record.Protocol || c.What != "certificato contestuale di residenza e stato di famiglia" {
		t.Errorf("certificate line %+v", c)
	}
	if r := byKind[accesslog.Refusal]; r.Why != "rilascio certificato anagrafico (art. 33 DPR 223/1989)" || r.Place == "" {
		t.Errorf("refusal line %+v", r)
	}
	read := p.Lines[2]
	if read.Kind != accesslog.Read || read.Place != "Edicola Centrale" || read.Clerk != "Luca Verdi" || read.What != "nome, data di nascita, famiglia anagrafica" || !read.Time.Equal(now.Add(-2*time.Hour)) {
		t.Errorf("oldest line %+v, want the shop's read", read)
	}
	// Pages: two of two lines, then one.
	p1, err := accesslog.Query(d.Audit, places, protocols, cf, now, 1, 2)
	if err != nil || p1.Pages != 2 || len(p1.Lines) != 2 {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := accesslog.Query(d.Audit, places, protocols, cf, now, 2, 2)
	if err != nil || len(p2.Lines) != 1 || p2.Lines[0] != read {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
	if _, err := accesslog.Query(d.Audit, places, protocols, cf, now, 3, 2); !errors.Is(err, accesslog.ErrBadPage) {
		t.Errorf("page 3 of 2: %v", err)
	}
	if _, err := accesslog.Query(d.Audit, places, protocols, cf, now, 1, 0); !errors.Is(err, accesslog.ErrBadPage) {
		t.Errorf("page size 0: %v", err)
	}
}

// A citizen's log says which shop, which clerk, what and why, but never
// another person's codice fiscale nor why someone else's identification
// failed: the requester who asked about them (a household member, or a
// stranger refused) and whoever tried a wrong document stay out of it,
// although the audit log itself keeps them for the inspector.
func TestLogNamesNoOtherPersonsCodiceFiscale(t *testing.T) {
	d := issuancetest.New(t, 400, 5, now)
	c := d.Cast(t)
	ctx := context.Background()
	counter := func(subject string, ev identify.Evidence) issuance.Request {
		return issuance.Request{SubjectCF: subject, Types: []string{"residenza"}, Evidence: ev, Channel: certificate.Counter,
			Operator: issuance.Operator{ID: "op-0001"}, Actor: kiosk, Clerk: audit.Clerk{ID: "clk-0001", Name: "Luca Verdi"}}
	}
	ev := d.Evidence(t, c.Requester)
	if _, err := d.Issue(ctx, counter(c.Member, ev)); err != nil {
		t.Fatalf("about a household member: %v", err)
	}
	if _, err := d.Issue(ctx, counter(c.Stranger, ev)); err == nil {
		t.Fatal("a stranger's certificate was issued")
	}
	wrong := identify.Evidence{Method: identify.Document, CF: c.Requester, Document: "ZZ9999999"}
	if _, err := d.Issue(ctx, counter(c.Member, wrong)); err == nil {
		t.Fatal("issued on a document the registry does not hold")
	}
	for _, subj := range []string{c.Member, c.Stranger} {
		p, err := accesslog.Query(d.Audit, places, nil, subj, now, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total == 0 {
			t.Fatalf("%s's log is empty", subj)
		}
		for _, l := range p.Lines {
			all := strings.Join([]string{l.Place, l.Clerk, l.What, l.Why, l.Reference}, " | ")
			if strings.Contains(all, c.Requester) || strings.Contains(all, "ZZ9999999") || strings.Contains(all, "registry holds no document") {
				t.Errorf("%s's log shows another person's identification: %s", subj, all)
			}
			if l.Place != "Edicola Centrale" || l.Clerk != "Luca Verdi" || l.Why == "" {
				t.Errorf("%s's line lost its shop, clerk or purpose: %+v", subj, l)
			}
		}
	}
	// The inspector's audit log still names the requester and the cause.
	es, err := d.Audit.Search(audit.Query{Subject: c.Member}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var requester, cause bool
	for _, e := range es {
		requester = requester || strings.Contains(e.Purpose, c.Requester)
		cause = cause || strings.Contains(e.Purpose, "ZZ9999999")
	}
	if !requester || !cause {
		t.Errorf("the audit log lost the requester (%v) or the failure's cause (%v): %+v", requester, cause, es)
	}
}
