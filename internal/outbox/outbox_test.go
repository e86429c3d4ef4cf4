package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestEnqueueListsAndLooksUp(t *testing.T) {
	clk := newFakeClock()
	o, _ := openTest(t, Options{Key: testKey, Clock: clk})
	ops := []Op{
		{Kind: "certificate.request", IdempotencyKey: "k1", Payload: []byte(`{"cf":"RSSMRA80A01F205X"}`), PersonalData: true, AmountCents: 200},
		{Kind: "fee.record", IdempotencyKey: "k2", Payload: []byte(`{"cents":66}`), AmountCents: 66},
		{Kind: "audit.event", IdempotencyKey: "k3", Payload: []byte(`{"ev":"login"}`)},
	}
	var entries []Entry
	for _, op := range ops {
		entries = append(entries, mustEnqueue(t, o, op))
		clk.Advance(time.Minute)
	}
	pending, err := o.Pending()
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(ops) {
		t.Fatalf("Pending lists %d operations, want %d", len(pending), len(ops))
	}
	var total int64
	for i, p := range pending {
		if p.IdempotencyKey != ops[i].IdempotencyKey || p.State != Pending || p.Payload != nil {
			t.Errorf("Pending[%d] = %+v, want key %s, pending, no payload", i, p, ops[i].IdempotencyKey)
		}
		if i > 0 && p.ID <= pending[i-1].ID {
			t.Errorf("Pending is not in enqueue order: id %d after %d", p.ID, pending[i-1].ID)
		}
		total += ops[i].AmountCents
	}
	st, err := o.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != len(ops) || st.AmountCents != total || st.OldestAge != time.Duration(len(ops))*time.Minute || !st.Oldest.Equal(entries[0].EnqueuedAt) {
		t.Errorf("Stats = %+v, want %d pending, %d cents, oldest %v old", st, len(ops), total, time.Duration(len(ops))*time.Minute)
	}
	if st.Limits.MaxAge != DefaultMaxAge || st.Limits.MaxCount != DefaultMaxCount {
		t.Errorf("Stats.Limits = %+v, want the defaults", st.Limits)
	}

	for _, e := range entries {
		typed := strings.ToLower(strings.ReplaceAll(e.ClaimCode, "-", " "))
		got, err := o.Lookup(typed)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", typed, err)
		}
		if got.ID != e.ID || got.State != Pending {
			t.Errorf("Lookup(%q) = %+v, want id %d pending", typed, got, e.ID)
		}
		byKey, err := o.LookupKey(e.IdempotencyKey)
		if err != nil || byKey.ClaimCode != e.ClaimCode {
			t.Errorf("LookupKey(%q) = %+v, %v; want claim %s", e.IdempotencyKey, byKey, err, e.ClaimCode)
		}
	}
	if _, err := o.LookupKey("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LookupKey of an unknown key: %v, want ErrNotFound", err)
	}
}

func TestEnqueueRejectsBadOperations(t *testing.T) {
	o, _ := openTest(t, Options{})
	tests := []struct {
		name string
		op   Op
		want string
	}{
		{"no kind", Op{IdempotencyKey: "k"}, "no kind"},
		{"no key", Op{Kind: "x"}, "no idempotency key"},
		{"long key", Op{Kind: "x", IdempotencyKey: strings.Repeat("k", MaxKeyLen+1)}, "idempotency key has"},
		{"negative amount", Op{Kind: "x", IdempotencyKey: "k", AmountCents: -1}, "pay money out"},
		{"big payload", Op{Kind: "x", IdempotencyKey: "k", Payload: make([]byte, MaxPayload+1)}, "payload has"},
		{"personal without key", Op{Kind: "x", IdempotencyKey: "k", PersonalData: true}, "no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := o.Enqueue(context.Background(), tt.op)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Enqueue error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if st, _ := o.Stats(); st.Pending != 0 {
		t.Errorf("refused operations were queued: %+v", st)
	}
}

func TestEnqueueIsIdempotent(t *testing.T) {
	o, _ := openTest(t, Options{Key: testKey, Clock: newFakeClock()})
	op := Op{Kind: "certificate.request", IdempotencyKey: "same", Payload: []byte("p"), PersonalData: true, AmountCents: 200}
	first := mustEnqueue(t, o, op)
	again := mustEnqueue(t, o, op)
	if again.ID != first.ID || again.ClaimCode != first.ClaimCode {
		t.Errorf("enqueuing the same operation twice gave %+v then %+v, want the same entry", first, again)
	}
	if st, _ := o.Stats(); st.Pending != 1 || st.AmountCents != 200 {
		t.Errorf("after a repeated Enqueue, Stats = %+v, want 1 pending of 200 cents", st)
	}
	conflicts := []Op{
		{Kind: op.Kind, IdempotencyKey: op.IdempotencyKey, Payload: []byte("other"), PersonalData: true, AmountCents: 200},
		{Kind: op.Kind, IdempotencyKey: op.IdempotencyKey, Payload: op.Payload, PersonalData: true, AmountCents: 300},
		{Kind: "fee.record", IdempotencyKey: op.IdempotencyKey, Payload: op.Payload, PersonalData: true, AmountCents: 200},
	}
	for _, c := range conflicts {
		if _, err := o.Enqueue(context.Background(), c); !errors.Is(err, ErrKeyConflict) {
			t.Errorf("Enqueue(%+v) with a used key: %v, want ErrKeyConflict", c, err)
		}
	}
	hub := newFakeHub()
	if _, err := o.NewSender(hub, SenderOptions{}).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := mustEnqueue(t, o, op)
	if after.ID != first.ID || after.State != Delivered || after.ResultRef != hub.effects[op.IdempotencyKey] {
		t.Errorf("enqueuing a delivered operation again gave %+v, want the delivered entry %d", after, first.ID)
	}
	if st, _ := o.Stats(); st.Pending != 0 {
		t.Errorf("enqueuing a delivered operation again queued it: %+v", st)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		fill    []int64       // amounts of operations queued first
		advance time.Duration // then time passes
		amount  int64         // the operation under test
		want    LimitKind     // "" when it must be accepted
	}{
		{"count reached", Options{MaxCount: 3}, []int64{0, 0, 0}, 0, 0, LimitCount},
		{"count below", Options{MaxCount: 3}, []int64{0, 0}, 0, 0, ""},
		{"count off", Options{MaxCount: -1, MaxAge: -1}, []int64{0, 0, 0}, 0, 0, ""}, // with TestOptionsSetLimits
		{"age default exceeded", Options{}, []int64{0}, 24*time.Hour + time.Minute, 0, LimitAge},
		{"age default at the limit", Options{}, []int64{0}, 24 * time.Hour, 0, ""},
		{"age custom", Options{MaxAge: time.Hour}, []int64{0}, 2 * time.Hour, 0, LimitAge},
		{"age off", Options{MaxAge: -1}, []int64{0}, 1000 * time.Hour, 0, ""},
		{"age with nothing queued", Options{MaxAge: time.Hour}, nil, 1000 * time.Hour, 0, ""},
		{"amount exceeded", Options{MaxAmountCents: 1000}, []int64{600, 300}, 0, 200, LimitAmount},
		{"amount exactly", Options{MaxAmountCents: 1000}, []int64{600, 200}, 0, 200, ""},
		{"amount off", Options{}, []int64{1 << 40}, 0, 1 << 40, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			tt.opts.Clock = clk
			o, _ := openTest(t, tt.opts)
			for i, a := range tt.fill {
				mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: fmt.Sprint("fill", i), AmountCents: a})
			}
			clk.Advance(tt.advance)
			before, _ := o.Stats()
			_, err := o.Enqueue(context.Background(), Op{Kind: "fee.record", IdempotencyKey: "probe", AmountCents: tt.amount})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Enqueue refused: %v", err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) || le.Kind != tt.want {
				t.Fatalf("Enqueue error = %v, want a %s LimitError", err, tt.want)
			}
			if !strings.Contains(err.Error(), "reconnect to the hub") || le.Stats.Pending != before.Pending {
				t.Errorf("LimitError = %q with stats %+v; want a sentence telling the operator what to do and the queue's figures", err, le.Stats)
			}
			if after, _ := o.Stats(); after.Pending != before.Pending || after.AmountCents != before.AmountCents {
				t.Errorf("a refused operation changed the queue: %+v → %+v", before, after)
			}
			// Once the hub has the queue, the kiosk takes operations again.
			if _, err := o.NewSender(newFakeHub(), SenderOptions{}).Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := o.Enqueue(context.Background(), Op{Kind: "fee.record", IdempotencyKey: "probe", AmountCents: tt.amount}); err != nil {
				t.Errorf("after draining, Enqueue still refused: %v", err)
			}
		})
	}
}

func TestOptionsSetLimits(t *testing.T) {
	tests := []struct {
		opts Options
		want Limits
	}{
		{Options{}, Limits{MaxAge: DefaultMaxAge, MaxCount: DefaultMaxCount}},
		{Options{MaxAge: time.Hour, MaxCount: 7, MaxAmountCents: 5000}, Limits{MaxAge: time.Hour, MaxCount: 7, MaxAmountCents: 5000}},
		{Options{MaxAge: -1, MaxCount: -1}, Limits{}},
	}
	for _, tt := range tests {
		o, _ := openTest(t, tt.opts)
		if got := o.Limits(); got != tt.want {
			t.Errorf("Open(%+v).Limits() = %+v, want %+v", tt.opts, got, tt.want)
		}
		if st, _ := o.Stats(); st.Limits != tt.want {
			t.Errorf("Stats().Limits = %+v, want %+v", st.Limits, tt.want)
		}
	}
	if _, err := Open(t.TempDir()+"/x.db", Options{MaxAmountCents: -1}); err == nil {
		t.Error("Open accepted a negative amount cap")
	}
}

func TestPersonalDataIsEncryptedAtRest(t *testing.T) {
	const secret = "ROSSI MARIO RSSMRA80A01F205X"
	const public = "PUBLIC-AUDIT-MARKER-7731"
	o, path := openTest(t, Options{Key: testKey})
	mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "p1", Payload: []byte(`{"who":"` + secret + `"}`), PersonalData: true})
	mustEnqueue(t, o, Op{Kind: "audit.event", IdempotencyKey: "a1", Payload: []byte(public)})
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("RSSMRA80A01F205X")) {
		t.Error("the raw outbox file contains personal data in clear")
	}
	// The same search finds data that is not meant to be encrypted, so the
	// absence above is not an accident of how the file is read.
	if !bytes.Contains(raw, []byte(public)) {
		t.Error("the raw outbox file lacks the non-personal payload; the search cannot be trusted")
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := Open(path, Options{Key: []byte("another key of thirty-two bytes!")}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("Open with another device key: %v, want a key mismatch error", err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "no outbox key") {
		t.Errorf("Open without the device key: %v, want an error", err)
	}
	if _, err := Open(path, Options{Key: []byte("short")}); err == nil || !strings.Contains(err.Error(), "fewer than") {
		t.Errorf("Open with a short device key: %v, want an error", err)
	}
	o2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	hub := newFakeHub()
	if _, err := o2.NewSender(hub, SenderOptions{}).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := string(hub.payloads["p1"]); !strings.Contains(got, secret) {
		t.Errorf("the hub received %q, want the decrypted payload", got)
	}
}

// A ciphertext moved into another record must not decrypt, or a tampered
// file could deliver one citizen's request under another's key.
func TestSealedPayloadIsBoundToItsRecord(t *testing.T) {
	s, err := newSealer(testKey, []byte("salt"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.seal(1, "k1", []byte("data"))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.open(1, "k1", c); err != nil || string(p) != "data" {
		t.Fatalf("open = %q, %v", p, err)
	}
	for _, tc := range []struct {
		id  uint64
		key string
	}{{2, "k1"}, {1, "k2"}} {
		if _, err := s.open(tc.id, tc.key, c); err == nil {
			t.Errorf("a payload sealed for (1, k1) opened as (%d, %s)", tc.id, tc.key)
		}
	}
	c[len(c)-1] ^= 1
	if _, err := s.open(1, "k1", c); err == nil {
		t.Error("a tampered payload opened")
	}
}

func TestDeliveredPersonalDataIsDeleted(t *testing.T) {
	const secret = "BIANCHI LUCIA BNCLCU85M41H501Z"
	clk := newFakeClock()
	o, path := openTest(t, Options{Key: testKey, Clock: clk})
	e := mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "del-1", Payload: []byte(secret), PersonalData: true, AmountCents: 200})
	var sealed []byte
	o.view(func(tx *bbolt.Tx) error {
		r := getRecord(tx, bPending, e.ID)
		loadPayload(tx, r)
		sealed = r.Payload
		return nil
	})
	raw, _ := os.ReadFile(path)
	if len(sealed) < 40 || !bytes.Contains(raw, sealed) {
		t.Fatal("the sealed payload is not in the file; the deletion check below would prove nothing")
	}

	var outcomes []Outcome
	hub := newFakeHub()
	n, err := o.NewSender(hub, SenderOptions{OnResult: func(oc Outcome) { outcomes = append(outcomes, oc) }}).Drain(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Drain = %d, %v; want 1 delivered", n, err)
	}
	if len(outcomes) != 1 || outcomes[0].Entry.State != Delivered || outcomes[0].Result.Ref != hub.effects["del-1"] || string(outcomes[0].Result.Body) != secret {
		t.Fatalf("OnResult got %+v, want one delivered outcome with the hub's answer", outcomes)
	}
	got, err := o.Lookup(e.ClaimCode)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Delivered || got.ResultRef != hub.effects["del-1"] || got.Payload != nil || !got.DoneAt.Equal(clk.Now()) || got.AmountCents != 200 {
		t.Errorf("Lookup after delivery = %+v, want the delivered tombstone with the hub's reference", got)
	}
	if o.dirty() {
		t.Error("the outbox still needs compaction after an idle Drain")
	}
	raw, _ = os.ReadFile(path)
	if bytes.Contains(raw, sealed) || bytes.Contains(raw, sealed[:24]) {
		t.Error("the delivered payload's ciphertext is still in the file")
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Error("the file contains the personal data in clear")
	}
	if !bytes.Contains(raw, []byte("del-1")) || !bytes.Contains(raw, []byte(e.ClaimCode)) {
		t.Error("the tombstone (idempotency key, claim code) is missing from the file")
	}

	// Online, the next delivery comes soon after: its scrub waits for
	// CompactEvery instead of stalling the counter again.
	s := o.NewSender(hub, SenderOptions{CompactEvery: time.Minute})
	for i, wantDirty := range []bool{false, true, false} {
		mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: fmt.Sprint("next-", i), Payload: []byte(secret), PersonalData: true})
		if _, err := s.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if o.dirty() != wantDirty {
			t.Errorf("after delivery %d, dirty = %v, want %v", i, o.dirty(), wantDirty)
		}
		clk.Advance(40 * time.Second)
	}
}

func TestRefusedOperationsWaitForTheOperator(t *testing.T) {
	clk := newFakeClock()
	o, path := openTest(t, Options{Key: testKey, Clock: clk})
	keys := []string{"r1", "r2", "r3"}
	var entries []Entry
	for _, k := range keys {
		entries = append(entries, mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: k, Payload: []byte("payload " + k), PersonalData: true, AmountCents: 200}))
	}
	hub := newFakeHub()
	hub.fail = func(e Entry, attempt int) error {
		if e.IdempotencyKey == "r2" {
			return ClassifyHTTP(422, 0, "not_resident", "the person is not resident in this comune")
		}
		return nil
	}
	var outcomes []Outcome
	n, err := o.NewSender(hub, SenderOptions{OnResult: func(oc Outcome) { outcomes = append(outcomes, oc) }}).Drain(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("Drain = %d, %v; want all 3 out of the queue", n, err)
	}
	if hub.seen["r2"] != 1 {
		t.Errorf("the refused operation was tried %d times, want 1", hub.seen["r2"])
	}
	if len(hub.effects) != 2 || hub.effects["r1"] == "" || hub.effects["r3"] == "" {
		t.Errorf("the hub acted on %v, want r1 and r3: a refusal must not block the queue", hub.effects)
	}
	if len(outcomes) != 3 || outcomes[1].Entry.State != Refused || outcomes[1].Entry.Refusal.Reason != "not_resident" {
		t.Errorf("outcomes = %+v, want the refusal reported second", outcomes)
	}
	refused, err := o.Refused()
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 1 || refused[0].ID != entries[1].ID || string(refused[0].Payload) != "payload r2" ||
		refused[0].Refusal == nil || !strings.Contains(refused[0].Refusal.Message, "not resident") {
		t.Fatalf("Refused() = %+v, want r2 with its payload and the hub's reason", refused)
	}
	if st, _ := o.Stats(); st.Pending != 0 || st.Refused != 1 || st.AmountCents != 0 {
		t.Errorf("Stats = %+v, want nothing pending and one refused", st)
	}

	if err := o.Dismiss(entries[0].ID); err == nil {
		t.Error("Dismiss accepted a delivered operation")
	}
	if err := o.Dismiss(entries[1].ID); err != nil {
		t.Fatal(err)
	}
	got, err := o.Lookup(entries[1].ClaimCode)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Dismissed || got.Refusal == nil || got.Refusal.Reason != "not_resident" || got.Refusal.Message != "" {
		t.Errorf("Lookup after Dismiss = %+v, want a dismissed tombstone keeping only the reason code", got)
	}
	if rs, _ := o.Refused(); len(rs) != 0 {
		t.Errorf("Refused() after Dismiss = %+v, want none", rs)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("not resident")) {
		t.Error("the refusal message outlived the dismissal")
	}
}

func TestClassifyHTTP(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter time.Duration
		want       string // "ok", "retry", "refuse"
	}{
		{200, 0, "ok"}, {201, 0, "ok"},
		{400, 0, "refuse"}, {401, 0, "refuse"}, {403, 0, "refuse"}, {404, 0, "refuse"}, {409, 0, "refuse"}, {422, 0, "refuse"},
		{408, 0, "retry"}, {425, 0, "retry"}, {429, 30 * time.Second, "retry"},
		{500, 0, "retry"}, {502, 0, "retry"}, {503, 5 * time.Second, "retry"}, {504, 0, "retry"},
		{302, 0, "retry"},
	}
	for _, tt := range tests {
		err := ClassifyHTTP(tt.status, tt.retryAfter, "", "")
		var re *RetryableError
		var rf *Refusal
		got := "ok"
		switch {
		case errors.As(err, &rf):
			got = "refuse"
			if rf.Reason != fmt.Sprintf("http_%d", tt.status) || rf.Message == "" {
				t.Errorf("ClassifyHTTP(%d) refusal = %+v, want a reason and message filled in", tt.status, rf)
			}
		case errors.As(err, &re):
			got = "retry"
			if re.After != tt.retryAfter {
				t.Errorf("ClassifyHTTP(%d) After = %v, want %v", tt.status, re.After, tt.retryAfter)
			}
		case err != nil:
			got = "other"
		}
		if got != tt.want {
			t.Errorf("ClassifyHTTP(%d) = %v (%s), want %s", tt.status, err, got, tt.want)
		}
	}
}

func TestPurgeDropsOldTombstones(t *testing.T) {
	clk := newFakeClock()
	o, path := openTest(t, Options{Clock: clk, Retention: 48 * time.Hour})
	old := mustEnqueue(t, o, Op{Kind: "audit.event", IdempotencyKey: "old"})
	s := o.NewSender(newFakeHub(), SenderOptions{})
	if _, err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * time.Hour)
	recent := mustEnqueue(t, o, Op{Kind: "audit.event", IdempotencyKey: "recent"})
	if _, err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24*time.Hour + time.Second)
	n, err := o.Purge()
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if _, err := o.Lookup(old.ClaimCode); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a purged claim code: %v, want ErrNotFound", err)
	}
	if _, err := o.LookupKey("old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LookupKey of a purged key: %v, want ErrNotFound", err)
	}
	if e, err := o.Lookup(recent.ClaimCode); err != nil || e.State != Delivered {
		t.Errorf("Lookup of a recent tombstone = %+v, %v; want it delivered", e, err)
	}
	// Open purges too.
	o.Close()
	clk.Advance(48 * time.Hour)
	o2, err := Open(path, Options{Clock: clk, Retention: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if _, err := o2.Lookup(recent.ClaimCode); !errors.Is(err, ErrNotFound) {
		t.Errorf("after reopening past the retention, Lookup: %v, want ErrNotFound", err)
	}
}

func TestOpenFinishesAnInterruptedCompaction(t *testing.T) {
	o, path := openTest(t, Options{Key: testKey})
	e := mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "c1", Payload: []byte("personal"), PersonalData: true})
	if _, err := o.delivered(e.ID, Result{Ref: "R1"}); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: the file stays dirty, and a half-written
	// compaction is left beside it.
	o.mu.Lock()
	o.db.Close()
	o.db = nil
	o.mu.Unlock()
	if err := os.WriteFile(path+".compact", []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	o2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if o2.dirty() {
		t.Error("Open left the outbox needing compaction")
	}
	if _, err := os.Stat(path + ".compact"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale compaction file is still there: %v", err)
	}
	if got, err := o2.LookupKey("c1"); err != nil || got.ResultRef != "R1" {
		t.Errorf("after reopening, LookupKey = %+v, %v; want the tombstone", got, err)
	}
}

func TestUndecryptablePayloadDoesNotBlockTheQueue(t *testing.T) {
	o, _ := openTest(t, Options{Key: testKey})
	bad := mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "u1", Payload: []byte("personal"), PersonalData: true})
	mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "u2", Payload: []byte("personal too"), PersonalData: true})
	// Flip one bit of the first ciphertext, as a damaged disk would.
	err := o.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bPayload)
		v := append([]byte(nil), b.Get(idKey(bad.ID))...)
		v[len(v)/2] ^= 0x10
		return b.Put(idKey(bad.ID), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	hub := newFakeHub()
	n, err := o.NewSender(hub, SenderOptions{}).Drain(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("Drain = %d, %v; want both out of the queue", n, err)
	}
	if _, ok := hub.effects["u1"]; ok || string(hub.payloads["u2"]) != "personal too" {
		t.Errorf("the hub acted on %v, want only u2 with its payload", hub.effects)
	}
	refused, err := o.Refused()
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 1 || refused[0].ID != bad.ID || refused[0].Refusal.Reason != "undecryptable" || refused[0].Payload != nil {
		t.Errorf("Refused() = %+v, want u1 set aside as undecryptable", refused)
	}
}

// Run with -race: the kiosk enqueues from the UI while the sender drains
// and the status bar polls.
func TestConcurrentEnqueueDrainAndStats(t *testing.T) {
	o, _ := openTest(t, Options{Key: testKey})
	hub := newFakeHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := o.NewSender(hub, SenderOptions{BaseDelay: time.Millisecond, IdleTick: 5 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	const writers, each = 3, 15
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				_, err := o.Enqueue(ctx, Op{Kind: "audit.event", IdempotencyKey: fmt.Sprintf("c%d-%d", w, i), Payload: []byte("x"), PersonalData: i%2 == 0})
				if err != nil {
					errs <- err
					return
				}
				if _, err := o.Stats(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := o.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d operations still pending", st.Pending)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if len(hub.effects) != writers*each {
		t.Errorf("the hub acted on %d operations, want %d", len(hub.effects), writers*each)
	}
}
