package delegation

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/registry"
)

var now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func person(t *testing.T, id registry.PersonID, surname, name string, birth time.Time) *registry.Person {
	t.Helper()
	cf, err := codicefiscale.Encode(codicefiscale.Subject{Surname: surname, Name: name, Sex: 'F', Birth: birth, Place: "F205"})
	if err != nil {
		t.Fatal(err)
	}
	return &registry.Person{ID: id, CF: cf, Surname: surname, GivenNames: name, BirthDate: registry.DateOf(birth)}
}

func reason(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Reason
	}
	return ""
}

func TestNew(t *testing.T) {
	maria := person(t, 1, "ROSSI", "MARIA", time.Date(1950, 2, 17, 0, 0, 0, 0, time.UTC))
	luca := person(t, 2, "BIANCHI", "LUCIA", time.Date(1980, 6, 1, 0, 0, 0, 0, time.UTC))
	minor := person(t, 3, "VERDI", "GIULIA", time.Date(2010, 6, 1, 0, 0, 0, 0, time.UTC))
	// Turns 18 tomorrow: still a minor today.
	almost := person(t, 4, "NERI", "ANNA", time.Date(2008, 12, 6, 0, 0, 0, 0, time.UTC))
	omocode, err := codicefiscale.Omocode(maria.CF, 1)
	if err != nil {
		t.Fatal(err)
	}
	until := registry.Date{Year: 2027, Month: 6, Day: 30}
	certs := Scope{Certificates: []string{"Residenza", "stato_di_famiglia", "residenza"}}
	good := Grant{Delegator: maria, DelegateCF: luca.CF, Delegate: luca, Scope: certs, Until: until, Channel: "counter"}

	d, err := New(good, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.ID, "D") || d.DelegatorCF != maria.CF || d.DelegateName != "BIANCHI LUCIA" ||
		strings.Join(d.Scope.Certificates, ",") != "residenza,stato_di_famiglia" || !d.Live(now) {
		t.Errorf("New: %+v", d)
	}
	// A delegate who is not resident: age from the code.
	if _, err := New(Grant{Delegator: maria, DelegateCF: strings.ToLower(luca.CF), Scope: certs, Until: until}, now, nil); err != nil {
		t.Errorf("a delegate known by code only: %v", err)
	}

	for _, c := range []struct {
		name   string
		change func(g *Grant)
		reason string
	}{
		{"to oneself", func(g *Grant) { g.DelegateCF, g.Delegate = maria.CF, nil }, ReasonSelf},
		{"to oneself by omocode", func(g *Grant) { g.DelegateCF, g.Delegate = omocode, nil }, ReasonSelf},
		{"to a resident minor", func(g *Grant) { g.DelegateCF, g.Delegate = minor.CF, minor }, ReasonMinor},
		{"to a minor known by code", func(g *Grant) { g.DelegateCF, g.Delegate = almost.CF, nil }, ReasonMinor},
		{"by a minor", func(g *Grant) { g.Delegator = minor }, ReasonDelegatorMinor},
		{"bad code", func(g *Grant) { g.DelegateCF, g.Delegate = "RSSMRA50B17A558X", nil }, ReasonDelegateCF},
		{"until yesterday", func(g *Grant) { g.Until = registry.Date{Year: 2026, Month: 12, Day: 4} }, ReasonUntilPast},
		{"until today", func(g *Grant) { g.Until = registry.Date{Year: 2026, Month: 12, Day: 5} }, ReasonUntilPast},
		{"no date", func(g *Grant) { g.Until = registry.Date{} }, ReasonUntilPast},
		{"beyond a year", func(g *Grant) { g.Until = registry.Date{Year: 2028, Month: 1, Day: 1} }, ReasonUntilTooFar},
		{"nothing", func(g *Grant) { g.Scope = Scope{} }, ReasonNoScope},
		{"unknown certificate", func(g *Grant) { g.Scope = Scope{Certificates: []string{"patente"}} }, ReasonUnknownScope},
		{"unknown request", func(g *Grant) { g.Scope = Scope{Requests: []string{"passaporto"}} }, ReasonUnknownScope},
		{"DAT in person only", func(g *Grant) { g.Scope = Scope{Requests: []string{"dat"}} }, ReasonScopeNotLawful},
		{"convivenza in person only", func(g *Grant) { g.Scope = Scope{Requests: []string{"cambio_indirizzo", "convivenza_di_fatto"}} }, ReasonScopeNotLawful},
	} {
		g := good
		c.change(&g)
		_, err := New(g, now, nil)
		if reason(err) != c.reason || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v (reason %q), want %s", c.name, err, reason(err), c.reason)
		}
	}
	// The last day counts, in Rome: 30 June at 23:30 Rome is still live,
	// 1 July is not.
	if !d.Live(time.Date(2027, 6, 30, 21, 30, 0, 0, time.UTC)) || d.Live(time.Date(2027, 6, 30, 22, 30, 0, 0, time.UTC)) {
		t.Error("Live does not end with the last day in Rome")
	}
}

func TestFind(t *testing.T) {
	a, b := "RSSMRA50B17A558W", "MRTMRA83T56A269B"
	ds := []Delegation{
		{ID: "D1", DelegatorCF: a, DelegateCF: b, Scope: Scope{Certificates: []string{"residenza"}}, Until: registry.Date{Year: 2027, Month: 1, Day: 1}},
		{ID: "D2", DelegatorCF: a, DelegateCF: b, Scope: Scope{Certificates: []string{"residenza", "nascita"}}, Until: registry.Date{Year: 2027, Month: 2, Day: 1}},
		{ID: "D3", DelegatorCF: a, DelegateCF: b, Scope: Scope{Certificates: []string{"residenza", "nascita", "cittadinanza"}}, Until: registry.Date{Year: 2027, Month: 3, Day: 1}, Revoked: now},
	}
	if d, ok, _ := Find(ds, a, b, []string{"residenza"}, now); !ok || d.ID != "D2" {
		t.Errorf("residenza: %s %v, want D2 (lasts longest)", d.ID, ok)
	}
	if _, ok, found := Find(ds, a, b, []string{"cittadinanza"}, now); ok || !found {
		t.Errorf("cittadinanza (only in a revoked one): ok %v found %v, want out of scope", ok, found)
	}
	if _, ok, found := Find(ds, b, a, []string{"residenza"}, now); ok || found {
		t.Errorf("the other way round: ok %v found %v", ok, found)
	}
}
