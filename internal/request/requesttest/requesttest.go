// Package requesttest is the suite every backend's request.Tx must pass
// (store.Tx.Requests), so that PostgreSQL behaves as bbolt does.
//
// A backend's test calls Run with a function that opens a new, empty hub
// store (closed by the test's cleanup) and one that opens a second
// store.Store on the same data, as a second hub on one database does (a
// backend of one process returns the store it is given):
//
//	func TestRequests(t *testing.T) { requesttest.Run(t, open, twin) }
package requesttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

var t0 = time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)

// sample is a filed change of address of two persons.
func sample(id string, filed time.Time, persons ...string) *request.Request {
	if len(persons) == 0 {
		persons = []string{"RSSMRA50B17A558W", "CCCFBA85D03L219P"}
	}
	return &request.Request{ID: id, Kind: request.AddressChange, Protocol: "2026/00000" + id[len(id)-2:], Filed: filed,
		SHA256: "ab12", Channel: "self_service", Actor: "device:k1", RequesterCF: persons[0], Persons: persons,
		Form:        request.Form{Address: &request.AddressForm{Persons: persons, NewAddress: request.NewAddress{Street: "Via Padova", Number: "12"}, Statement: true}},
		Attachments: []request.Attachment{{Name: "a.pdf", MediaType: request.PDF, Size: 9, SHA256: "cd34"}},
		Status:      request.Filed, History: []request.Event{{Time: filed, Actor: "device:k1", Action: request.ActionFiled}}}
}

// Run runs the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store, twin func(t *testing.T, s store.Store) store.Store) {
	ctx := context.Background()
	t.Run("CreateGet", func(t *testing.T) {
		s := store.Domain(open(t), store.Tx.Requests)
		r := sample("r-01", t0)
		r.IdempotencyKey = "dev/k1"
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Create(r) }); err != nil {
			t.Fatal(err)
		}
		if r.Version != 1 {
			t.Errorf("version after create: %d, want 1", r.Version)
		}
		var got, byKey request.Request
		err := s.View(ctx, func(tx request.Tx) (err error) {
			if got, err = tx.Get("r-01"); err != nil {
				return err
			}
			byKey, err = tx.ByKey("dev/k1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		r.Filed, r.History[0].Time = r.Filed.UTC(), r.History[0].Time.UTC()
		got.Filed, got.History[0].Time = got.Filed.UTC(), got.History[0].Time.UTC()
		if !reflect.DeepEqual(got, *r) {
			t.Errorf("get:\n%+v\nwant\n%+v", got, *r)
		}
		if byKey.ID != "r-01" {
			t.Errorf("by key: %q", byKey.ID)
		}
		_ = s.View(ctx, func(tx request.Tx) error {
			if _, err := tx.Get("nope"); !errors.Is(err, request.ErrNotFound) {
				t.Errorf("get unknown: %v, want ErrNotFound", err)
			}
			if _, err := tx.ByKey("dev/other"); !errors.Is(err, request.ErrNotFound) {
				t.Errorf("by unknown key: %v, want ErrNotFound", err)
			}
			return nil
		})
	})
	t.Run("Conflicts", func(t *testing.T) {
		s := store.Domain(open(t), store.Tx.Requests)
		r := sample("r-01", t0)
		r.IdempotencyKey = "dev/k1"
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Create(r) }); err != nil {
			t.Fatal(err)
		}
		again := sample("r-01", t0.Add(time.Minute))
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Create(again) }); !errors.Is(err, request.ErrExists) {
			t.Errorf("same id: %v, want ErrExists", err)
		}
		sameKey := sample("r-02", t0.Add(time.Minute))
		sameKey.IdempotencyKey = "dev/k1"
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Create(sameKey) }); !errors.Is(err, request.ErrExists) {
			t.Errorf("same key: %v, want ErrExists", err)
		}
		bad := sample("r-03", t0)
		bad.Protocol = ""
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Create(bad) }); !errors.Is(err, request.ErrInvalid) {
			t.Errorf("no protocol: %v, want ErrInvalid", err)
		}
		// Neither refused request left anything.
		_ = s.View(ctx, func(tx request.Tx) error {
			all, err := tx.List(request.Filter{})
			if err != nil || len(all) != 1 {
				t.Errorf("after refusals: %d requests, %v; want 1", len(all), err)
			}
			return nil
		})
	})
	t.Run("PutVersions", func(t *testing.T) {
		s := store.Domain(open(t), store.Tx.Requests)
		r := sample("r-01", t0)
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Create(r) }); err != nil {
			t.Fatal(err)
		}
		stale := *r
		r.Status, r.AssignedTo = request.MoreInfo, "mrossi"
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Put(r) }); err != nil {
			t.Fatal(err)
		}
		if r.Version != 2 {
			t.Errorf("version after put: %d, want 2", r.Version)
		}
		stale.Status = request.Refused
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Put(&stale) }); !errors.Is(err, request.ErrStale) {
			t.Errorf("stale put: %v, want ErrStale", err)
		}
		moved := *r
		moved.Protocol = "2026/9999999"
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Put(&moved) }); !errors.Is(err, request.ErrInvalid) {
			t.Errorf("protocol changed: %v, want ErrInvalid", err)
		}
		unknown := sample("r-09", t0)
		unknown.Version = 1
		if err := s.Update(ctx, func(tx request.Tx) error { return tx.Put(unknown) }); !errors.Is(err, request.ErrNotFound) {
			t.Errorf("put unknown: %v, want ErrNotFound", err)
		}
		var got request.Request
		_ = s.View(ctx, func(tx request.Tx) (err error) { got, err = tx.Get("r-01"); return err })
		if got.Status != request.MoreInfo || got.AssignedTo != "mrossi" || got.Version != 2 {
			t.Errorf("stored: %s %q v%d", got.Status, got.AssignedTo, got.Version)
		}
		// The queues see the new status.
		_ = s.View(ctx, func(tx request.Tx) error {
			open, _ := tx.List(request.Filter{Kind: request.AddressChange, Statuses: []request.Status{request.Filed}})
			waiting, _ := tx.List(request.Filter{Statuses: []request.Status{request.MoreInfo}})
			if len(open) != 0 || len(waiting) != 1 {
				t.Errorf("queues after put: filed %d, more info %d; want 0 and 1", len(open), len(waiting))
			}
			return nil
		})
	})
	t.Run("OrderAndPersons", func(t *testing.T) {
		s := store.Domain(open(t), store.Tx.Requests)
		a, b, c := "RSSMRA50B17A558W", "CCCFBA85D03L219P", "MRTMRA83T56A269B"
		rs := []*request.Request{sample("r-02", t0.Add(2*time.Hour), a, b), sample("r-01", t0, a), sample("r-03", t0.Add(time.Hour), c)}
		rs[2].Kind, rs[2].Form = request.DAT, request.Form{DAT: &request.DATForm{DocumentDate: "2026-11-30", Statement: true}}
		err := s.Update(ctx, func(tx request.Tx) error {
			for _, r := range rs {
				if err := tx.Create(r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids := func(rs []request.Request) string {
			out := ""
			for _, r := range rs {
				out += r.ID + " "
			}
			return out
		}
		_ = s.View(ctx, func(tx request.Tx) error {
			all, err := tx.List(request.Filter{})
			if got := ids(all); err != nil || got != "r-01 r-03 r-02 " {
				t.Errorf("list: %q %v; want oldest filed first", got, err)
			}
			addr, _ := tx.List(request.Filter{Kind: request.AddressChange})
			if got := ids(addr); got != "r-01 r-02 " {
				t.Errorf("address queue: %q", got)
			}
			ofA, err := tx.OfPerson(a)
			if got := ids(ofA); err != nil || got != "r-02 r-01 " {
				t.Errorf("of %s: %q %v; want newest first", a, got, err)
			}
			ofB, _ := tx.OfPerson(" " + "cccfba85d03l219p")
			if got := ids(ofB); got != "r-02 " {
				t.Errorf("of %s: %q", b, got)
			}
			if none, err := tx.OfPerson("BNCGNN80A01F205X"); err != nil || len(none) != 0 {
				t.Errorf("of a stranger: %d, %v", len(none), err)
			}
			return nil
		})
	})
	t.Run("Attachments", func(t *testing.T) {
		s := store.Domain(open(t), store.Tx.Requests)
		data := []byte("%PDF-1.7 a scanned document")
		var sum string
		if err := s.Update(ctx, func(tx request.Tx) (err error) {
			if sum, err = tx.PutAttachment(data); err != nil {
				return err
			}
			_, err = tx.PutAttachment(data) // the same bytes again: a no-op
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if sum != request.SumOf(data) {
			t.Errorf("sum %s, want %s", sum, request.SumOf(data))
		}
		_ = s.View(ctx, func(tx request.Tx) error {
			got, err := tx.Attachment(sum)
			if err != nil || string(got) != string(data) {
				t.Errorf("attachment: %q %v", got, err)
			}
			if _, err := tx.Attachment(request.SumOf([]byte("other"))); !errors.Is(err, request.ErrNotFound) {
				t.Errorf("unknown attachment: %v, want ErrNotFound", err)
			}
			return nil
		})
	})
	t.Run("FailedUpdateLeavesNothing", func(t *testing.T) {
		hub := open(t)
		boom := errors.New("boom")
		err := hub.Update(ctx, func(tx store.Tx) error {
			if err := tx.Requests().Create(sample("r-01", t0)); err != nil {
				return err
			}
			if _, err := tx.Requests().PutAttachment([]byte("%PDF-1.4 x")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("update: %v", err)
		}
		_ = hub.View(ctx, func(tx store.Tx) error {
			if _, err := tx.Requests().Get("r-01"); !errors.Is(err, request.ErrNotFound) {
				t.Errorf("request after a failed update: %v, want ErrNotFound", err)
			}
			if rs, _ := tx.Requests().OfPerson("RSSMRA50B17A558W"); len(rs) != 0 {
				t.Errorf("person index after a failed update: %d", len(rs))
			}
			if _, err := tx.Requests().Attachment(request.SumOf([]byte("%PDF-1.4 x"))); !errors.Is(err, request.ErrNotFound) {
				t.Errorf("attachment after a failed update: %v", err)
			}
			return nil
		})
	})
	t.Run("ViewRefusesWrites", func(t *testing.T) {
		hub := open(t)
		r := sample("r-01", t0)
		if err := hub.Update(ctx, func(tx store.Tx) error { return tx.Requests().Create(r) }); err != nil {
			t.Fatal(err)
		}
		_ = hub.View(ctx, func(tx store.Tx) error {
			if err := tx.Requests().Create(sample("r-02", t0)); err == nil {
				t.Error("create in a view succeeded")
			}
			cp := *r
			cp.Status = request.Accepted
			if err := tx.Requests().Put(&cp); err == nil {
				t.Error("put in a view succeeded")
			}
			if _, err := tx.Requests().PutAttachment([]byte("%PDF-")); err == nil {
				t.Error("attachment put in a view succeeded")
			}
			return nil
		})
		var got request.Request
		_ = hub.View(ctx, func(tx store.Tx) (err error) { got, err = tx.Requests().Get("r-01"); return err })
		if got.Status != request.Filed {
			t.Errorf("after a view's put: %s", got.Status)
		}
	})
	t.Run("TwoHubsDecideOnce", func(t *testing.T) {
		a := open(t)
		b := twin(t, a)
		r := sample("r-01", t0)
		if err := a.Update(ctx, func(tx store.Tx) error { return tx.Requests().Create(r) }); err != nil {
			t.Fatal(err)
		}
		// Eight staff members on two hubs decide the same request at
		// once, each reading and saving it in one transaction: exactly
		// one decision is recorded, each on the version it read.
		var wg sync.WaitGroup
		var mu sync.Mutex
		decided := 0
		for i := range 8 {
			hub := []store.Store{a, b}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := hub.Update(ctx, func(tx store.Tx) error {
					cur, err := tx.Requests().Get("r-01")
					if err != nil {
						return err
					}
					if cur.Status != request.Filed {
						return request.ErrTransition
					}
					cur.Status, cur.Decision = request.Accepted, fmt.Sprintf("decision %d", i)
					cur.History = append(cur.History, request.Event{Time: t0, Actor: fmt.Sprintf("staff:s%d", i), Action: request.ActionAccepted})
					return tx.Requests().Put(&cur)
				})
				if err == nil {
					mu.Lock()
					decided++
					mu.Unlock()
				} else if !errors.Is(err, request.ErrTransition) && !errors.Is(err, request.ErrStale) {
					t.Errorf("decision %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		var got request.Request
		_ = b.View(ctx, func(tx store.Tx) (err error) { got, err = tx.Requests().Get("r-01"); return err })
		if decided != 1 || len(got.History) != 2 || got.Version != 2 {
			t.Errorf("%d decisions succeeded, history %d events, version %d; want 1, 2, 2", decided, len(got.History), got.Version)
		}
	})
	t.Run("TwoHubsFileOneKey", func(t *testing.T) {
		a := open(t)
		b := twin(t, a)
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := 0
		for i := range 6 {
			hub := []store.Store{a, b}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := sample(fmt.Sprintf("r-%02d", i), t0)
				r.IdempotencyKey = "dev/same"
				err := hub.Update(ctx, func(tx store.Tx) error { return tx.Requests().Create(r) })
				if err == nil {
					mu.Lock()
					created++
					mu.Unlock()
				} else if !errors.Is(err, request.ErrExists) {
					t.Errorf("filing %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if created != 1 {
			t.Errorf("%d filings of one key succeeded, want 1", created)
		}
	})
}
