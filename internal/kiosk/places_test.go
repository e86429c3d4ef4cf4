package kiosk

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
)

// TestOfflinePreviewAndPlaces: with the hub down, the fee preview uses the
// agreement's kept copy and says how old it is, and the directory comes
// from its kept copy, with its age.
func TestOfflinePreviewAndPlaces(t *testing.T) {
	cache := &Cache{Path: filepath.Join(t.TempDir(), "cache.json")}
	fetched := testNow.Add(-26 * time.Hour)
	hubUp := true
	agreement := func(context.Context) (*Agreement, error) {
		if !hubUp {
			return nil, ErrOffline
		}
		return &Agreement{FeeCents: 180, Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia}, MayIssue: true, Fetched: fetched}, nil
	}
	places := func(context.Context) (*Directory, error) {
		if !hubUp {
			return nil, ErrOffline
		}
		return &Directory{Places: []Place{{Name: "Tabacchi Loreto", DistanceM: 450, Open: true, Spans: []string{"07:00-19:00"}}}, Fetched: fetched}, nil
	}
	// Yesterday the hub answered; today it does not.
	cache.Agreement(ctx, agreement)
	cache.Directory(ctx, places)
	hubUp = false
	a, err := cache.Agreement(ctx, agreement)
	if err != nil || !a.Cached {
		t.Fatalf("agreement %+v %v", a, err)
	}

	r := newRig(t, Operator)
	cfg := r.flow.cfg
	cfg.ServiceCents, cfg.Types, cfg.AgreementAsOf, cfg.AgreementCached = a.FeeCents, a.Types, a.Fetched, a.Cached
	f, err := New(cfg, Deps{Hub: r.hub, Reader: r.reader, Printers: r.prn, Outbox: r.out, Journal: r.journal, Clock: r.clock,
		Places: func(ctx context.Context) (Directory, error) { return cache.Directory(ctx, places) }})
	if err != nil {
		t.Fatal(err)
	}
	r.flow = f
	login(r)
	if err := r.flow.ShowPlaces(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepPlaces)
	v := r.flow.View()
	if v.Places == nil || !v.Places.Cached || len(v.Places.Places) != 1 || v.PlacesAge != 26*time.Hour {
		t.Fatalf("places %+v, age %s", v.Places, v.PlacesAge)
	}
	r.flow.Back()
	r.step(t, StepIdentify)

	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Nascita}}); err == nil {
		t.Error("a type outside the cached agreement was offered")
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	v = r.flow.View()
	var svc int64
	for _, l := range v.Preview.Lines {
		if l.Kind == fees.Service {
			svc = l.Cents
		}
	}
	if svc != 180 || !v.AgreementCached || v.AgreementAge != 26*time.Hour || !v.AgreementAsOf.Equal(fetched) {
		t.Errorf("preview service %d, agreement cached %v age %s as of %s", svc, v.AgreementCached, v.AgreementAge, v.AgreementAsOf)
	}
	// The hub answers again and the refresh brings the new fee.
	r.flow.Back()
	r.flow.SetAgreement(Agreement{FeeCents: 200, Types: []certificate.Type{certificate.Residenza}, Fetched: testNow})
	r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}})
	v = r.flow.View()
	if v.AgreementCached || v.AgreementAge != 0 || v.Preview.TotalCents != 1600+52+200 {
		t.Errorf("after the refresh: cached %v age %s total %d", v.AgreementCached, v.AgreementAge, v.Preview.TotalCents)
	}
	// The city changed the counter's diritti: the next refresh brings them
	// with the agreement and the preview charges them.
	r.flow.Back()
	r.flow.SetAgreement(Agreement{FeeCents: 200, Types: []certificate.Type{certificate.Residenza}, Fetched: testNow,
		FeePolicy: &api.FeePolicy{Diritti: map[string]fees.Rates{api.ChannelCounter: {InBolloCents: 60, ExemptCents: 30}}}})
	r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}})
	if v = r.flow.View(); v.Preview == nil || v.Preview.TotalCents != 1600+60+200 {
		t.Errorf("after the city changed the diritti: preview %+v", v.Preview)
	}
}

func TestPlacesUnavailable(t *testing.T) {
	r := newRig(t, Operator)
	login(r)
	var p *Problem
	if err := r.flow.ShowPlaces(ctx); !errors.As(err, &p) || p.Key != "places_unavailable" {
		t.Errorf("without a directory: %v", err)
	}
	r.step(t, StepIdentify)
}

func TestOnContact(t *testing.T) {
	r := newRig(t, Operator)
	n := 0
	r.flow.deps.OnContact = func(context.Context) { n++ }
	r.flow.RefreshStatus(ctx)
	r.hub.offline = true
	r.flow.RefreshStatus(ctx)
	if n != 1 {
		t.Errorf("OnContact ran %d times for one poll that reached the hub and one that did not", n)
	}
}
