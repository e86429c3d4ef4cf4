package issuance_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/store"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/protocol"
)

var now = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)

func newDesk(t testing.TB, persons int) (*issuance.Service, []string) {
	t.Helper()
	d := issuancetest.New(t, persons, 5, now)
	return d.Service, d.Residents
}

var clerk = audit.Actor{Kind: audit.Staff, ID: "clerk1"}

// TestEveryReadIsAudited: an issued certificate's read commits with it; a
// refused request's read is recorded too.
func TestEveryReadIsAudited(t *testing.T) {
	d, cfs := newDesk(t, 100)
	res, err := d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[0], Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[1], Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk,
		Exemption: fees.Exemption{Code: 99}})
	if _, ok := certificate.AsRefusal(err); !ok {
		t.Fatalf("want a refusal, got %v", err)
	}
	es, err := store.AuditLog{S: d.Stores}.Search(audit.Query{Actor: "staff:clerk1"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("%d audit entries, want 2: %+v", len(es), es)
	}
	if es[0].Subject != cfs[0] || es[0].Request != res.Record.ID || !strings.Contains(es[0].Data, "residenza") {
		t.Errorf("issuance entry %+v", es[0])
	}
	if es[1].Subject != cfs[1] || !strings.Contains(es[1].Purpose, "rifiutata") {
		t.Errorf("refusal entry %+v", es[1])
	}
	// An issuance with no actor cannot be recorded, so it is not issued.
	if _, err := d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[2], Types: []string{"residenza"}, Channel: certificate.Office}); err == nil {
		t.Error("an unattributable read issued a certificate")
	}
	if _, err := (store.AuditLog{S: d.Stores}).Verify(); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

func TestIssueIdempotentAndRefusalsLeaveNoTrace(t *testing.T) {
	d, cfs := newDesk(t, 100)
	req := issuance.Request{SubjectCF: cfs[0], Types: []string{"residenza"}, Channel: certificate.Office, IdempotencyKey: "office/1", Actor: clerk}
	first, err := d.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.Record.Protocol != "2026/0000001" || first.Replayed || len(first.PDF) == 0 {
		t.Fatalf("first: %+v", first.Record)
	}
	if first.Record.TotalCents != fees.BolloCents+fees.DirittiCents {
		t.Errorf("total %d", first.Record.TotalCents)
	}
	// Spelling differences do not make a different request.
	req.SubjectCF, req.Types = " "+cfs[0]+" ", []string{"RESIDENZA "}
	again, err := d.Issue(context.Background(), req)
	if err != nil || !again.Replayed || again.Record.ID != first.Record.ID || string(again.PDF) != string(first.PDF) {
		t.Fatalf("replay: %v %+v", err, again.Record)
	}
	req.SubjectCF = cfs[1]
	if _, err := d.Issue(context.Background(), req); err == nil {
		t.Fatal("same key, other subject: accepted")
	}
	for _, bad := range []issuance.Request{
		{SubjectCF: cfs[1], Types: []string{"nope"}, Channel: certificate.Office, Actor: clerk},
		{SubjectCF: cfs[1], Types: []string{"residenza"}, Channel: certificate.Office, Exemption: fees.Exemption{Code: 99}, Actor: clerk},
		{SubjectCF: cfs[1], Types: []string{"residenza"}, Channel: certificate.Counter, Operator: issuance.Operator{ID: "op", Allowed: map[certificate.Type]bool{certificate.StatoDiFamiglia: true}}, Actor: clerk},
	} {
		if _, err := d.Issue(context.Background(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		} else if _, ok := certificate.AsRefusal(err); !ok {
			t.Errorf("%+v: %v is not a refusal", bad, err)
		}
	}
	next, err := d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[1], Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk})
	if err != nil || next.Record.Protocol != "2026/0000002" {
		t.Errorf("after refusals: %v %s", err, next.Record.Protocol)
	}
}

// BenchmarkIssue measures a whole issuance: rules, fees, compose, PDF, QR
// token, PDF signature and the protocol/record write with fsync.
func BenchmarkIssue(b *testing.B) {
	d, cfs := newDesk(b, 2000)
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, err := d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[i%len(cfs)], Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkIssueParallel issues from 4 requests per core at once, as a hub
// serving many shops does: renderings run on both cores while the group
// commit writes what is ready.
func BenchmarkIssueParallel(b *testing.B) {
	d, cfs := newDesk(b, 2000)
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[int(i)%len(cfs)], Types: []string{"residenza"}, Channel: certificate.Office, IdempotencyKey: fmt.Sprint(i), Actor: clerk}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "certs/s")
}

// cpuTime is the process's user+system CPU time. The machines that run the
// benchmarks are shared, so they also report CPU time per certificate,
// which other processes' load does not inflate as it does wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func TestConcurrentDuplicatesIssueOneCertificate(t *testing.T) {
	d, cfs := newDesk(t, 60)
	req := issuance.Request{SubjectCF: cfs[0], Types: []string{"residenza"}, Channel: certificate.Office, IdempotencyKey: "office/dup", Actor: clerk}
	results := make([]issuance.Result, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = d.Issue(context.Background(), req)
		}()
	}
	wg.Wait()
	fresh := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if !r.Replayed {
			fresh++
		}
		if r.Record.ID != results[0].Record.ID || string(r.PDF) != string(results[0].PDF) {
			t.Errorf("request %d got %s, request 0 got %s", i, r.Record.ID, results[0].Record.ID)
		}
	}
	if fresh != 1 {
		t.Errorf("%d requests issued, want 1", fresh)
	}
	es, _ := d.Certs.ProtocolDay(protocol.DayOf(now))
	if len(es) != 1 || es[0].Number.String() != "2026/0000001" {
		t.Errorf("register %v", es)
	}
}

// TestSettingsChangeApplies: with Current set, the city's cap and public
// URL are read at each issuance, so a change holds from the next request;
// unreadable settings issue nothing.
func TestSettingsChangeApplies(t *testing.T) {
	desk := issuancetest.New(t, 60, 5, now)
	d, cfs := desk.Service, desk.Residents
	var mu sync.Mutex
	st := issuance.Settings{Issuer: d.Issuer, PublicURL: "https://old.example", Policy: certificate.Policy{ServiceCapCents: 100}}
	var fail error
	d.Current = func() (issuance.Settings, error) { mu.Lock(); defer mu.Unlock(); return st, fail }
	req := issuance.Request{SubjectCF: cfs[0], Evidence: desk.Evidence(t, cfs[0]), Types: []string{"residenza"}, Channel: certificate.Counter, Actor: clerk,
		Operator: issuance.Operator{ID: "op-0001", ServiceCents: 150}}
	_, err := d.Issue(context.Background(), req)
	if ref, ok := certificate.AsRefusal(err); !ok || ref.Reason != fees.ReasonServiceFeeAboveCap {
		t.Fatalf("fee of 1.50 under a cap of 1.00: %v, want %s", err, fees.ReasonServiceFeeAboveCap)
	}
	mu.Lock()
	st.Policy.ServiceCapCents, st.PublicURL = 150, "https://new.example/"
	mu.Unlock()
	res, err := d.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("after raising the cap: %v", err)
	}
	if got, want := d.VerifyURL(res.Record.ID), "https://new.example/v/"+res.Record.ID; got != want {
		t.Errorf("verify URL %s, want %s", got, want)
	}
	mu.Lock()
	fail = fmt.Errorf("disk on fire")
	mu.Unlock()
	if _, err := d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[1], Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk}); err == nil || !strings.Contains(err.Error(), "city's settings") {
		t.Errorf("with unreadable settings: %v", err)
	}
}
