// Package notifytest is the suite every backend's notify.Tx must pass
// (store.Tx.Notices), so that PostgreSQL behaves as bbolt does.
//
// A backend's test calls Run with a function that opens a new, empty hub
// store (closed by the test's cleanup) and one that opens a second
// store.Store on the same data, as a second hub on one database does (a
// backend of one process returns the store it is given).
package notifytest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/store"
)

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// item is a valid item about certificate id, enqueued at at.
func item(id string, at time.Time) notify.Item {
	return notify.Issued{CertificateID: id, Protocol: "2026/0000012", Title: "Certificato di residenza", Issued: at,
		SubjectCF: "RSSMRA50B17A558W", SubjectEmail: "mario.rossi@example.org", RequesterName: "ROSSI ANNA", Place: "Edicola Centrale"}.Item(at)
}

func enqueue(t *testing.T, s store.Store, its ...notify.Item) {
	t.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, it := range its {
			if err := tx.Notices().Enqueue(it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ids(items []notify.Item) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

var channels = []string{"appio", "email"}

// Run runs the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store, twin func(t *testing.T, s store.Store) store.Store) {
	ctx := context.Background()
	t.Run("EnqueueOnceAndGet", func(t *testing.T) {
		s := open(t)
		q := store.NoticesOf(s)
		first := item("C1", t0)
		enqueue(t, s, first)
		again := item("C1", t0.Add(time.Hour))
		again.Message.Subject = "Un altro oggetto per lo stesso certificato"
		enqueue(t, s, again)
		got, err := q.Get("C1")
		if err != nil || !reflect.DeepEqual(got, first) {
			t.Errorf("get: %+v %v, want the first enqueued %+v", got, err, first)
		}
		if _, err := q.Get("C2"); !errors.Is(err, notify.ErrNotFound) {
			t.Errorf("get of an unknown item: %v, want ErrNotFound", err)
		}
		if err := q.Mark("C2", "appio", notify.Delivery{State: notify.Sent}); !errors.Is(err, notify.ErrNotFound) {
			t.Errorf("mark of an unknown item: %v, want ErrNotFound", err)
		}
		bad := item("C3", t0)
		bad.Message.Markdown = "troppo corto"
		noID := item("", t0)
		for name, it := range map[string]notify.Item{"short text": bad, "no id": noID} {
			if err := q.Enqueue(it); err == nil {
				t.Errorf("%s: queued", name)
			}
		}
		if items, _ := q.List(); len(items) != 1 {
			t.Errorf("the queue holds %v, want C1 only", ids(items))
		}
	})
	t.Run("DueNextMarkSettle", func(t *testing.T) {
		s := open(t)
		q := store.NoticesOf(s)
		enqueue(t, s, item("C2", t0.Add(time.Minute)), item("C1", t0), item("C3", t0.Add(2*time.Minute)))
		if due, err := q.Due(t0, channels); err != nil || !reflect.DeepEqual(ids(due), []string{"C1", "C2", "C3"}) {
			t.Errorf("due: %v %v, want oldest first", ids(due), err)
		}
		if items, err := q.List(); err != nil || !reflect.DeepEqual(ids(items), []string{"C3", "C2", "C1"}) {
			t.Errorf("list: %v %v, want newest first", ids(items), err)
		}
		// C1 sent on both channels; C2 waits out a backoff on one; C3's
		// hub stopped while sending.
		sent := notify.Delivery{State: notify.Sent, Attempts: 1, Receipt: "r-1", SentAt: t0.Add(time.Minute)}
		later := notify.Delivery{State: notify.Pending, Attempts: 1, NextAt: t0.Add(time.Hour), LastError: "timeout"}
		sending := notify.Delivery{State: notify.Sending, Attempts: 1, NextAt: t0.Add(2 * time.Hour)}
		for _, m := range []struct {
			id, ch string
			d      notify.Delivery
		}{{"C1", "appio", sent}, {"C1", "email", sent}, {"C2", "appio", later}, {"C2", "email", sent},
			{"C3", "appio", sending}, {"C3", "email", sent}} {
			if err := q.Mark(m.id, m.ch, m.d); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := q.Get("C2"); !reflect.DeepEqual(got.Delivery("appio"), later) {
			t.Errorf("marked %+v, read %+v", later, got.Delivery("appio"))
		}
		if due, err := q.Due(t0.Add(time.Minute), channels); err != nil || len(due) != 0 {
			t.Errorf("due before C2's retry and within C3's lease: %v %v, want none", ids(due), err)
		}
		if due, _ := q.Due(t0.Add(time.Hour), channels); !reflect.DeepEqual(ids(due), []string{"C2"}) {
			t.Errorf("due at C2's retry: %v", ids(due))
		}
		// A lease is another hub's clock's: it is taken over only once it
		// passed by more than the clocks may disagree.
		if due, _ := q.Due(t0.Add(2*time.Hour+notify.MaxClockSkew-time.Second), channels); !reflect.DeepEqual(ids(due), []string{"C2"}) {
			t.Errorf("due once C3's lease passed, within the clocks' skew: %v", ids(due))
		}
		if due, _ := q.Due(t0.Add(2*time.Hour+notify.MaxClockSkew), channels); !reflect.DeepEqual(ids(due), []string{"C2", "C3"}) {
			t.Errorf("due once C3's lease passed: %v", ids(due))
		}
		if due, _ := q.Due(t0.Add(time.Hour), []string{"email"}); len(due) != 0 {
			t.Errorf("due on the e-mail channel, all sent: %v", ids(due))
		}
		if at, ok, err := q.Next(channels); err != nil || !ok || !at.Equal(t0.Add(time.Hour)) {
			t.Errorf("next: %v %v %v, want C2's retry", at, ok, err)
		}
		if err := q.Settle("C1"); err != nil {
			t.Fatal(err)
		}
		got, _ := q.Get("C1")
		if got.Message.Markdown != "" || got.Message.Email != "" || got.Message.CF == "" || got.Delivery("appio").Receipt != "r-1" {
			t.Errorf("settled: %+v, want text and e-mail gone, recipient and outcome kept", got)
		}
		if _, ok, _ := store.NoticesOf(s).Next([]string{"email"}); ok {
			t.Error("next on a channel with nothing waiting says something is")
		}
	})
	t.Run("EnqueueCommitsWithItsTransaction", func(t *testing.T) {
		s := open(t)
		var wake <-chan struct{}
		if w, ok := s.(store.Waker); ok {
			wake = w.NoticeWake()
		}
		boom := errors.New("the certificate could not be stored")
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.Notices().Enqueue(item("C1", t0)); err != nil {
				return err
			}
			if _, err := tx.Notices().Get("C1"); err != nil {
				t.Errorf("inside its transaction the item is not there: %v", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := store.NoticesOf(s).Get("C1"); !errors.Is(err, notify.ErrNotFound) {
			t.Errorf("a failed transaction queued its item: %v", err)
		}
		if wake != nil {
			select {
			case <-wake:
				t.Error("the sender was woken by a transaction that failed")
			default:
			}
		}
		enqueue(t, s, item("C1", t0))
		if wake != nil {
			select {
			case <-wake:
			default:
				t.Error("the sender was not woken after the item committed")
			}
		}
	})
	t.Run("ViewRefusesWrites", func(t *testing.T) {
		s := open(t)
		enqueue(t, s, item("C1", t0))
		for name, fn := range map[string]func(notify.Tx) error{
			"enqueue": func(tx notify.Tx) error { return tx.Enqueue(item("C2", t0)) },
			"mark":    func(tx notify.Tx) error { return tx.Mark("C1", "appio", notify.Delivery{State: notify.Sent}) },
			"settle":  func(tx notify.Tx) error { return tx.Settle("C1") },
		} {
			err := s.View(ctx, func(tx store.Tx) error { return fn(tx.Notices()) })
			if !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("%s in a View: %v, want ErrReadOnly", name, err)
			}
		}
		got, _ := store.NoticesOf(s).Get("C1")
		if !reflect.DeepEqual(got, item("C1", t0)) {
			t.Errorf("a View changed the item: %+v", got)
		}
	})
	t.Run("TwoHubs", func(t *testing.T) {
		a := open(t)
		b := twin(t, a)
		enqueue(t, a, item("C1", t0))
		qb := store.NoticesOf(b)
		if due, err := qb.Due(t0, channels); err != nil || !reflect.DeepEqual(ids(due), []string{"C1"}) {
			t.Fatalf("the other hub's queue: %v %v", ids(due), err)
		}
		if err := qb.Mark("C1", "appio", notify.Delivery{State: notify.Sent, Attempts: 1}); err != nil {
			t.Fatal(err)
		}
		if got, _ := store.NoticesOf(a).Get("C1"); got.Delivery("appio").State != notify.Sent {
			t.Errorf("a delivery marked on one hub is %s on the other", got.Delivery("appio").State)
		}
		// Both hubs' senders read the e-mail delivery pending: one claims it.
		seen := notify.Delivery{State: notify.Pending}
		claim := notify.Delivery{State: notify.Sending, Attempts: 1, NextAt: t0.Add(time.Minute)}
		wonA, errA := store.NoticesOf(a).Claim("C1", "email", seen, claim)
		wonB, errB := qb.Claim("C1", "email", seen, claim)
		if errA != nil || errB != nil || wonA == wonB {
			t.Errorf("claims of one delivery on two hubs: %v %v, %v %v; want one won", wonA, errA, wonB, errB)
		}
		enqueue(t, b, item("C1", t0.Add(time.Hour)))
		if items, _ := store.NoticesOf(a).List(); len(items) != 1 {
			t.Errorf("one certificate enqueued on two hubs: %v", ids(items))
		}
	})
}
