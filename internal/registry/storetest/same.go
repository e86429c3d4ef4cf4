package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/sportello/sportello/internal/registry"
)

// Same fails t unless got holds the same persons, families, events and
// places as want, with the same IDs: what registry.Copy must achieve
// between any two stores.
func Same(t *testing.T, want, got registry.Store) {
	t.Helper()
	type contents struct {
		persons  []*registry.Person
		families []*registry.Family
		events   []*registry.Event
		places   map[string]string
	}
	read := func(s registry.Store) contents {
		t.Helper()
		var c contents
		err := s.View(context.Background(), func(r registry.Reader) error {
			if err := r.Persons(0, func(p *registry.Person) (bool, error) { c.persons = append(c.persons, normalize(p)); return true, nil }); err != nil {
				return err
			}
			if err := r.Families(0, func(f *registry.Family) (bool, error) { c.families = append(c.families, f); return true, nil }); err != nil {
				return err
			}
			if err := r.Events(0, func(e *registry.Event) (bool, error) { c.events = append(c.events, e); return true, nil }); err != nil {
				return err
			}
			ps, err := r.Places()
			c.places = map[string]string{}
			for _, p := range ps {
				c.places[p.Code+p.From.Format("20060102")] = p.Name + p.To.Format("20060102") + p.ISTAT
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	w, g := read(want), read(got)
	if len(w.persons) != len(g.persons) || len(w.families) != len(g.families) || len(w.events) != len(g.events) || len(w.places) != len(g.places) {
		t.Fatalf("%d persons, %d families, %d events, %d places; want %d, %d, %d, %d",
			len(g.persons), len(g.families), len(g.events), len(g.places), len(w.persons), len(w.families), len(w.events), len(w.places))
	}
	for i := range w.persons {
		if !reflect.DeepEqual(w.persons[i], g.persons[i]) {
			t.Fatalf("person %d differs:\n got %+v\nwant %+v", i, g.persons[i], w.persons[i])
		}
	}
	if !reflect.DeepEqual(w.families, g.families) {
		t.Error("the families differ")
	}
	for i := range w.events {
		if !reflect.DeepEqual(w.events[i], g.events[i]) {
			t.Fatalf("event %d differs:\n got %+v\nwant %+v", i, g.events[i], w.events[i])
		}
	}
	if !reflect.DeepEqual(w.places, g.places) {
		t.Error("the places differ")
	}
}
