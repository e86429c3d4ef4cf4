package hubapi

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/disktest"
	"github.com/sportello/sportello/internal/fault/hubfault"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/protocol"
)

func health(t *testing.T, url string) (int, string, api.Health) {
	t.Helper()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h api.Health
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("healthz %d is not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), h
}

// TestDiskFull runs the hub on a real file system that fills up: while it
// is full every issuance answers 503 storage_full with Retry-After and
// /healthz says degraded; once space is freed /healthz is ok again by
// itself, issuance works, and the failed attempts burned no protocol
// number (the register has no annulment for them).
func TestDiskFull(t *testing.T) {
	dir := disktest.Tmpfs(t, "16m")
	d := issuancetest.NewIn(t, dir, 60, 5, testNow)
	pub, priv, _ := ed25519.GenerateKey(nil)
	hub := &Server{
		Store: d.Store, Desk: d.Service, Now: d.Service.Now, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: pub}, Clock: d.Service.Now},
		DeviceOperator: func(context.Context, string) (issuance.Operator, error) {
			return issuance.Operator{ID: "op-1", ServiceCents: 150, Allowed: map[certificate.Type]bool{certificate.Residenza: true}}, nil
		},
		StorageProbe: func() error { return atomicfile.Probe(dir, 256<<10) },
	}
	srv := httptest.NewServer(hub.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, desk: d.Service, d: d, cfs: d.Identifiable(t, 5), signer: &httpsig.Signer{Key: priv, KeyID: "dev-1", Clock: d.Service.Now, Extra: []string{"idempotency-key"}}}
	cf := f.cfs[0]
	body := map[string]any{"cf": cf, "types": []string{"residenza"}}
	issued := 0
	if resp, b := f.post(t, "before", body, true); resp.StatusCode != http.StatusCreated {
		t.Fatalf("before the disk filled: %d %s", resp.StatusCode, b)
	}
	issued++

	free := disktest.Fill(t, dir)
	// bbolt may still find room among the pages it freed earlier: issue
	// until the first refusal, which must come well before the file
	// system could take another 200 certificates.
	first := -1
	for i := range 200 {
		resp, b := f.post(t, fmt.Sprint("fill-", i), body, true)
		if resp.StatusCode == http.StatusCreated {
			issued++
			continue
		}
		var p api.Problem
		json.Unmarshal(b, &p)
		if resp.StatusCode != http.StatusServiceUnavailable || p.Reason != "storage_full" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("with the disk full: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		first = i
		break
	}
	if first < 0 {
		t.Fatal("200 certificates fit on a full disk")
	}
	if code, retry, h := health(t, srv.URL); code != http.StatusServiceUnavailable || h.Status != "degraded" || h.Reason != "storage_full" || h.Since == nil || retry == "" {
		t.Errorf("healthz with the disk full: %d Retry-After %q %+v", code, retry, h)
	}

	// Kiosks retry concurrently while the disk stays full: each attempt
	// holds a protocol number while its certificate is made, so numbers
	// overlap and a failure is rarely the last number handed out.
	const kiosks, tries = 6, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range tries {
				resp, b := f.post(t, fmt.Sprintf("k%d-%d", k, i), body, true)
				var p api.Problem
				json.Unmarshal(b, &p)
				mu.Lock()
				if resp.StatusCode == http.StatusServiceUnavailable && p.Reason == "storage_full" {
					failed++
				} else {
					t.Errorf("kiosk %d attempt %d with the disk full: %d %s", k, i, resp.StatusCode, b)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed != kiosks*tries {
		t.Fatalf("%d of %d attempts answered storage_full", failed, kiosks*tries)
	}

	free()
	if code, _, h := health(t, srv.URL); code != http.StatusOK || h.Status != "ok" || h.Reason != "" || h.Since != nil || h.Persons == 0 {
		t.Errorf("healthz once space is back: %d %+v", code, h)
	}
	for i := range 3 {
		resp, b := f.post(t, fmt.Sprint("after-", i), body, true)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("after space came back: %d %s", resp.StatusCode, b)
		}
		issued++
	}
	es, err := d.Certs.ProtocolDay(protocol.DayOf(testNow))
	if err != nil {
		t.Fatal(err)
	}
	annulled := 0
	for i, e := range es {
		if e.Number.Seq != uint64(i+1) {
			t.Fatalf("the register has a hole before %s", e.Number)
		}
		if e.Direction == protocol.Annulled {
			annulled++
		}
	}
	if len(es)-annulled != issued || annulled != 0 {
		t.Errorf("%d failed attempts left %d annulments beside %d certificates (want none): %d entries",
			failed+1, annulled, issued, len(es))
	}
	if want := strconv.Itoa(issued); es[len(es)-1].Number.Seq != uint64(issued) {
		t.Errorf("the last number is %s, want %s: numbers were burned", es[len(es)-1].Number, want)
	}
}

// TestStorageErrorsAre503 maps a full disk, however bbolt or the os
// package wrap it, and the register's refusals for the clock and a closed
// day, to 503 with their reasons and a Retry-After; and a degraded hub
// without a probe is ok again after the next write that succeeds.
func TestStorageErrorsAre503(t *testing.T) {
	enospc := &fs.PathError{Op: "write", Path: "/var/lib/sportello/hub.db", Err: syscall.ENOSPC}
	for _, c := range []struct {
		err    error
		reason string
	}{
		{fmt.Errorf("cannot issue: %w", enospc), api.ReasonStorageFull},
		{fmt.Errorf("cannot issue: %w", &fs.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}), api.ReasonStorageFull},
		{fmt.Errorf("file resize error: %s", enospc), api.ReasonStorageFull}, // bbolt's grow
		{fmt.Errorf("cannot register: %w", protocol.ErrClockBehind), api.ReasonRegisterClockBehind},
		{fmt.Errorf("cannot register: %w", protocol.ErrDayClosed), api.ReasonRegisterDayClosed},
	} {
		if status, reason := hubfault.Status(c.err); status != http.StatusServiceUnavailable || reason != c.reason {
			t.Errorf("%v: %d %s, want 503 %s", c.err, status, reason, c.reason)
		}
	}
	for _, err := range []error{
		errors.New("write /x: input/output error"),
		errors.New(`the subject "no space left on device" is not a codice fiscale`), // text a client chose
	} {
		if status, reason := hubfault.Status(err); status != 500 || reason != "internal" {
			t.Errorf("%v: %d %s", err, status, reason)
		}
	}

	d := issuancetest.New(t, 20, 1, testNow)
	s := &Server{Store: d.Store, Now: d.Service.Now, Log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	rec := httptest.NewRecorder()
	s.fail(rec, httptest.NewRequest("POST", "/api/v1/certificates", nil), fmt.Errorf("cannot issue: %w", enospc))
	var p api.Problem
	json.Unmarshal(rec.Body.Bytes(), &p)
	if rec.Code != 503 || p.Reason != api.ReasonStorageFull || rec.Header().Get("Retry-After") != "30" || strings.Contains(p.Message, "hub.db") {
		t.Errorf("storage full: %d %s %+v", rec.Code, rec.Header().Get("Retry-After"), p)
	}
	if code, _, h := health(t, srv.URL); code != 503 || h.Status != api.StatusDegraded {
		t.Errorf("healthz after a full disk: %d %+v", code, h)
	}
	// A write that succeeds, through the handler chain.
	s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/certificates", nil))
	if code, _, h := health(t, srv.URL); code != 200 || h.Status != api.StatusOK {
		t.Errorf("healthz after a write succeeded: %d %+v", code, h)
	}
}
