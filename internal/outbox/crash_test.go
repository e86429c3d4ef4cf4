package outbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash test runs this test binary again as a kiosk process (the
// child), selected by these environment variables, and kills it.
const (
	envChild = "OUTBOX_CRASH_CHILD" // "enqueue" or "drain"
	envDB    = "OUTBOX_CRASH_DB"
	envHub   = "OUTBOX_CRASH_HUB"
	envRun   = "OUTBOX_CRASH_RUN"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(crashChild(mode))
	}
	os.Exit(m.Run())
}

// crashKey names the i-th operation of a child run. Every 5th is one the
// hub refuses; it must end in the kiosk's refused list, not lost.
func crashKey(run, i int) string {
	k := fmt.Sprintf("r%04d-%05d", run, i)
	if i%5 == 3 {
		k += "-x"
	}
	return k
}

func crashPayload(key string) []byte {
	return []byte(`{"cf":"RSSMRA80A01F205X","request":"` + key + `"}`)
}

// httpDeliverer is a minimal stand-in for the kiosk's hub client.
type httpDeliverer struct {
	url    string
	client *http.Client
}

func (d httpDeliverer) Deliver(ctx context.Context, e Entry) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url+"/api/v1/ops", bytes.NewReader(e.Payload))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Idempotency-Key", e.IdempotencyKey)
	resp, err := d.client.Do(req)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Result{}, err
	}
	var ans struct{ Ref, Reason, Message string }
	json.Unmarshal(body, &ans)
	if err := ClassifyHTTP(resp.StatusCode, 0, ans.Reason, ans.Message); err != nil {
		return Result{}, err
	}
	return Result{Ref: ans.Ref, Body: body}, nil
}

func crashChild(mode string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 3
	}
	var run int
	fmt.Sscan(os.Getenv(envRun), &run)
	o, err := Open(os.Getenv(envDB), Options{Key: testKey, MaxCount: -1, MaxAge: -1})
	if err != nil {
		return fail(err)
	}
	defer o.Close()
	os.Stdout.WriteString("ready\n")
	s := o.NewSender(httpDeliverer{url: os.Getenv(envHub), client: &http.Client{Timeout: 5 * time.Second}},
		SenderOptions{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, IdleTick: 20 * time.Millisecond,
			OnResult: func(oc Outcome) { os.Stdout.WriteString("delivered " + oc.Entry.IdempotencyKey + "\n") }})
	ctx := context.Background()
	if mode == "enqueue" {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go s.Run(rctx)
		for i := range 60 {
			key := crashKey(run, i)
			if _, err := o.Enqueue(ctx, Op{Kind: "certificate.request", IdempotencyKey: key, Payload: crashPayload(key),
				PersonalData: i%2 == 1, AmountCents: 200}); err != nil {
				return fail(err)
			}
			// Only now may the kiosk tell the citizen the request is in.
			os.Stdout.WriteString("accepted " + key + "\n")
		}
		cancel()
	}
	// Drain to the end; the sender's own Run may still be finishing a
	// delivery, and Drain waits for it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := s.Drain(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fail(errors.New("the queue did not drain in 20 s"))
		}
		time.Sleep(time.Millisecond)
	}
	if err := o.Close(); err != nil {
		return fail(err)
	}
	os.Stdout.WriteString("drained\n")
	return 0
}

// crashHub answers like the hub's write endpoints: the first request with
// an idempotency key takes effect, a repeat gets the same answer, a repeat
// with another body is a conflict. It also fails on purpose: sometimes
// before acting (503), sometimes after acting (the answer is lost).
type crashHub struct {
	mu         sync.Mutex
	rng        *rand.Rand
	refs       map[string]string
	bodies     map[string]string
	deliveries map[string]int
	order      []string
	conflicts  []string
	refusals   int
}

func (h *crashHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	body, err := io.ReadAll(r.Body)
	if err != nil || key == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	roll := h.rng.IntN(100)
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	if roll < 8 {
		reply(http.StatusServiceUnavailable, map[string]string{"reason": "busy"})
		return
	}
	if strings.HasSuffix(key, "-x") {
		h.refusals++
		reply(http.StatusUnprocessableEntity, map[string]string{"reason": "not_resident", "message": "the person is not resident here"})
		return
	}
	h.deliveries[key]++
	if prev, ok := h.bodies[key]; ok {
		if prev != string(body) {
			h.conflicts = append(h.conflicts, key)
			reply(http.StatusConflict, map[string]string{"reason": "idempotency_conflict"})
			return
		}
		reply(http.StatusOK, map[string]string{"ref": h.refs[key]})
		return
	}
	ref := fmt.Sprintf("C%06d", len(h.refs)+1)
	h.refs[key], h.bodies[key] = ref, string(body)
	h.order = append(h.order, key)
	if roll < 14 {
		reply(http.StatusServiceUnavailable, map[string]string{"reason": "lost"})
		return
	}
	reply(http.StatusCreated, map[string]string{"ref": ref})
}

func TestCrashSafety(t *testing.T) {
	const (
		maxRuns = 600
		budget  = 50 * time.Second
	)
	wantKills := 200
	if raceDetector {
		// Race-instrumented children start about five times slower; the
		// race run looks for data races, the plain run does the 200 kills.
		wantKills = 50
	}
	hub := &crashHub{rng: rand.New(rand.NewPCG(1, 2)), refs: map[string]string{}, bodies: map[string]string{}, deliveries: map[string]int{}}
	srv := httptest.NewServer(hub)
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "outbox.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))

	accepted := map[string]bool{}
	start := time.Now()
	kills, runs := 0, 0
	var enqueueKills, drainKills, earlyKills int
	run := func(mode string, kill bool, n int) (killed bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+mode, envDB+"="+db, envHub+"="+srv.URL, fmt.Sprintf("%s=%d", envRun, n))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The kill comes after a random number of steps of the kind the
		// run is about, so the children do the same work however slow
		// the machine (or the race detector) makes them.
		step := "accepted "
		if mode == "drain" {
			step = "delivered "
		}
		var mu sync.Mutex
		steps := -1 // until "ready"
		progress := make(chan struct{}, 1)
		lines := make(chan []string, 1)
		go func() {
			var got []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				l := sc.Text()
				got = append(got, l)
				mu.Lock()
				if l == "ready" {
					steps = 0
				} else if strings.HasPrefix(l, step) {
					steps++
				}
				mu.Unlock()
				select {
				case progress <- struct{}{}:
				default:
				}
			}
			close(progress)
			lines <- got
		}()
		if kill {
			if rng.IntN(5) == 0 {
				// Sometimes during start-up, which may be compacting.
				earlyKills++
				time.Sleep(time.Duration(rng.IntN(15_000)) * time.Microsecond)
			} else {
				target := rng.IntN(6)
				timeout := time.After(10 * time.Second)
			wait:
				for {
					mu.Lock()
					reached := steps >= target
					mu.Unlock()
					if reached {
						break
					}
					select {
					case _, open := <-progress:
						if !open {
							break wait
						}
					case <-timeout:
						break wait
					}
				}
				time.Sleep(time.Duration(rng.IntN(3_000)) * time.Microsecond)
			}
			cmd.Process.Signal(syscall.SIGKILL)
		}
		got := <-lines
		err = cmd.Wait()
		for _, l := range got {
			if k, ok := strings.CutPrefix(l, "accepted "); ok {
				accepted[k] = true
			}
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return true
			}
		}
		if err != nil {
			t.Fatalf("child run %d (%s) failed: %v\n%s", n, mode, err, stderr.String())
		}
		return false
	}
	for kills < wantKills && runs < maxRuns && time.Since(start) < budget {
		runs++
		mode := "enqueue"
		if rng.IntN(3) == 0 {
			mode = "drain"
		}
		if run(mode, true, runs) {
			kills++
			if mode == "enqueue" {
				enqueueKills++
			} else {
				drainKills++
			}
		}
	}
	// The time budget keeps a loaded machine (shared, noisy) from running
	// the suite long; a quarter of the kills aimed at still kills at every
	// step many times over, so only fewer than that fails.
	switch {
	case kills < wantKills/4:
		t.Fatalf("only %d kills in %d runs and %v; the test wants at least %d (aims at %d)", kills, runs, time.Since(start).Round(time.Millisecond), wantKills/4, wantKills)
	case kills < wantKills:
		t.Logf("a loaded machine: %d kills of the %d aimed at within %v", kills, wantKills, budget)
	}
	run("drain", false, runs+1)
	t.Logf("%d runs, %d SIGKILLs (%d while enqueuing, %d while draining, %d during start-up) in %v",
		runs, kills, enqueueKills, drainKills, earlyKills, time.Since(start).Round(time.Millisecond))

	hub.mu.Lock()
	defer hub.mu.Unlock()
	o, err := Open(db, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if len(hub.conflicts) > 0 {
		t.Errorf("the hub saw one idempotency key with different bodies: %v", hub.conflicts)
	}
	if st, _ := o.Stats(); st.Pending != 0 {
		t.Errorf("after the final drain %d operations are still pending", st.Pending)
	}
	refused, err := o.Refused()
	if err != nil {
		t.Fatal(err)
	}
	refusedKeys := map[string]bool{}
	for _, e := range refused {
		refusedKeys[e.IdempotencyKey] = true
		if string(e.Payload) != string(crashPayload(e.IdempotencyKey)) {
			t.Errorf("refused %s kept payload %q", e.IdempotencyKey, e.Payload)
		}
	}

	// Every accepted operation took effect at the hub (or was refused and
	// is waiting for the operator), and the kiosk agrees on the result.
	lost := 0
	for k := range accepted {
		if strings.HasSuffix(k, "-x") {
			if !refusedKeys[k] {
				lost++
				t.Errorf("accepted %s, which the hub refuses, is not in the refused list", k)
			}
			continue
		}
		ref, ok := hub.refs[k]
		if !ok {
			lost++
			t.Errorf("accepted %s never took effect at the hub", k)
			continue
		}
		if e, err := o.LookupKey(k); err != nil || e.State != Delivered || e.ResultRef != ref {
			t.Errorf("the kiosk's record of %s = %+v, %v; want delivered with the hub's reference %s", k, e, err, ref)
		}
	}
	// Every effect at the hub is an operation the kiosk committed, with the
	// body it committed, and effects happened in enqueue order.
	redelivered := 0
	for _, k := range hub.order {
		if hub.bodies[k] != string(crashPayload(k)) {
			t.Errorf("the hub acted on %s with body %q", k, hub.bodies[k])
		}
		if e, err := o.LookupKey(k); err != nil || e.State != Delivered {
			t.Errorf("the hub acted on %s, which the kiosk has as %+v, %v", k, e, err)
		}
		redelivered += hub.deliveries[k] - 1
	}
	if !slices.IsSorted(hub.order) {
		t.Errorf("the hub acted out of enqueue order")
	}
	unreported := 0
	for _, k := range hub.order {
		if !accepted[k] {
			unreported++
		}
	}
	t.Logf("%d operations accepted (%d refused by the hub), %d took effect, %d of them committed but killed before saying so; %d repeated deliveries made harmless; %d lost",
		len(accepted), len(refusedKeys), len(hub.order), unreported, redelivered, lost)
	if len(accepted) < kills/2 {
		t.Errorf("only %d operations were accepted over %d runs; the children did too little to test", len(accepted), runs)
	}
	if redelivered == 0 {
		t.Error("no delivery was repeated, so exactly-once in effect was never exercised")
	}
}
