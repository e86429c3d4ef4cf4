package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/operators"
)

// Agreement is what the shop's agreement with the city lets this kiosk do:
// the service fee the hub charges and the certificate types it may issue.
type Agreement struct {
	OperatorName string             `json:"operator_name,omitempty"`
	FeeCents     int64              `json:"fee_cents"`
	Types        []certificate.Type `json:"certificate_types"`
	MayIssue     bool               `json:"may_issue"`
	Why          string             `json:"why,omitempty"`
	Fetched      time.Time          `json:"fetched"` // when the hub said so
	Cached       bool               `json:"-"`       // read from the profile's copy, the hub being unreachable
	// Offline is what the city lets this kiosk take while it cannot reach
	// the hub (nil from a hub that does not say: the defaults hold).
	Offline *operators.OfflineLimits `json:"offline,omitempty"`
	// FeePolicy is the city's certificate fee policy the hub stated with
	// the agreement (nil from a hub that does not say).
	FeePolicy *api.FeePolicy `json:"fee_policy,omitempty"`
}

// Policy is the fee policy the preview computes under: the one the hub
// stated with the agreement, else fallback. The diritti, the stato civile
// exemption and the cap are the city's and change while kiosks run; a
// preview under anything else shows a total the hub does not charge.
func (a Agreement) Policy(fallback certificate.Policy) certificate.Policy {
	fp := a.FeePolicy
	if fp == nil {
		return fallback
	}
	p := certificate.Policy{ServiceCapCents: fp.ServiceCapCents, LawExemption: fp.BirthMarriageExempt, BolloAuthorisation: fp.BolloAuthorisation}
	if len(fp.Diritti) > 0 {
		p.Diritti = make(map[certificate.Channel]fees.Rates, len(fp.Diritti))
		for ch, r := range fp.Diritti {
			p.Diritti[certificate.Channel(ch)] = r
		}
	}
	return p
}

// Place is one shop or office of the city's directory, as the kiosk shows
// it to a citizen it cannot serve now.
type Place struct {
	Name      string   `json:"name"`
	Category  string   `json:"category"`
	Address   string   `json:"address"`
	DistanceM int      `json:"distance_m"`
	Open      bool     `json:"open"`  // at Fetched
	Today     string   `json:"today"` // the day Spans are for, YYYY-MM-DD
	Spans     []string `json:"spans"`
	Transit   string   `json:"transit,omitempty"`
	// Kind is the category's code (operators.Category), for the screen
	// to name in its language; Category is the hub's Italian label.
	Kind string `json:"kind,omitempty"`
	// Types are the certificates issued there (certificate.Type codes);
	// TotalCents is what a citizen pays there in all for an ordinary one
	// (api.DirectoryEntry.OrdinaryTotalCents), nil when the hub did not
	// say.
	Types      []string `json:"types,omitempty"`
	TotalCents *int64   `json:"total_cents,omitempty"`
}

// Directory is the nearest points of service, as the hub listed them at Fetched.
type Directory struct {
	Places  []Place   `json:"places"`
	Fetched time.Time `json:"fetched"`
	Cached  bool      `json:"-"`
}

// Cache keeps the hub's last answers about the agreement and the directory
// in the kiosk's profile (PROFILE/cache.json), so the fee preview and the
// directory work while the hub is unreachable. It holds no personal data.
type Cache struct {
	Path string
	mu   sync.Mutex
}

type cacheFile struct {
	Agreement *Agreement `json:"agreement,omitempty"`
	Directory *Directory `json:"directory,omitempty"`
}

func (c *Cache) read() (cacheFile, error) {
	var f cacheFile
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("cannot read the kiosk's cache: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		// A damaged cache only costs what it held; the next answer rewrites it.
		return cacheFile{}, nil
	}
	return f, nil
}

func (c *Cache) write(fn func(*cacheFile)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.read()
	if err != nil {
		return err
	}
	fn(&f)
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	// atomicfile sets 0600 on every write; os.WriteFile would keep the
	// mode of a leftover temporary file.
	if err := atomicfile.Write(c.Path, b, 0o600); err != nil {
		return fmt.Errorf("cannot write the kiosk's cache: %w", err)
	}
	return nil
}

func (c *Cache) load() (cacheFile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read()
}

// ErrNoCopy is returned when the hub is unreachable and the profile holds
// no earlier answer.
var ErrNoCopy = errors.New("the hub cannot be reached and the kiosk has no earlier copy")

// Agreement asks the hub with fetch; on success it keeps the answer, and
// when the hub cannot be reached it returns the kept copy, marked Cached.
// A refusal (the device revoked, say) is returned as is: a copy must not
// hide it.
func (c *Cache) Agreement(ctx context.Context, fetch func(context.Context) (*Agreement, error)) (Agreement, error) {
	a, err := fetch(ctx)
	if err == nil {
		a.Cached = false
		if werr := c.write(func(f *cacheFile) { f.Agreement = a }); werr != nil {
			return *a, werr
		}
		return *a, nil
	}
	if !errors.Is(err, ErrOffline) {
		return Agreement{}, err
	}
	f, lerr := c.load()
	if lerr != nil || f.Agreement == nil {
		return Agreement{}, fmt.Errorf("%w: %v", ErrNoCopy, err)
	}
	out := *f.Agreement
	out.Cached = true
	return out, nil
}

// Directory does for the directory what Agreement does for the agreement.
func (c *Cache) Directory(ctx context.Context, fetch func(context.Context) (*Directory, error)) (Directory, error) {
	d, err := fetch(ctx)
	if err == nil {
		d.Cached = false
		if werr := c.write(func(f *cacheFile) { f.Directory = d }); werr != nil {
			return *d, werr
		}
		return *d, nil
	}
	if !errors.Is(err, ErrOffline) {
		return Directory{}, err
	}
	f, lerr := c.load()
	if lerr != nil || f.Directory == nil {
		return Directory{}, fmt.Errorf("%w: %v", ErrNoCopy, err)
	}
	out := *f.Directory
	out.Cached = true
	return out, nil
}

// FetchAgreement reads the agreement from GET /api/v1/devices/self.
func FetchAgreement(c *hubclient.Client, now func() time.Time) func(context.Context) (*Agreement, error) {
	return func(ctx context.Context) (*Agreement, error) {
		dev, err := c.Self(ctx)
		if err != nil {
			return nil, clientErr(err)
		}
		a := &Agreement{OperatorName: dev.OperatorName, FeeCents: int64(dev.FeeCents), MayIssue: dev.MayIssue, Why: dev.Why, Fetched: now(),
			Offline: dev.Offline, FeePolicy: dev.FeePolicy}
		for _, t := range dev.Types {
			if ct, err := certificate.ParseType(t); err == nil {
				a.Types = append(a.Types, ct)
			}
		}
		return a, nil
	}
}

// FetchDirectory reads the points of service nearest to the shop from
// GET /api/v1/directory, closed ones included (they open later).
func FetchDirectory(c *hubclient.Client, lat, lon float64, now func() time.Time) func(context.Context) (*Directory, error) {
	return func(ctx context.Context) (*Directory, error) {
		es, err := c.Directory(ctx, hubclient.DirectoryQuery{Lat: lat, Lon: lon, Limit: 8, IncludeClosed: true})
		if err != nil {
			return nil, clientErr(err)
		}
		d := &Directory{Fetched: now()}
		for _, e := range es {
			p := Place{Name: e.Name, Category: e.CategoryLabel, Address: e.Address, DistanceM: e.DistanceM, Open: e.Open,
				Today: e.Today.Date, Spans: []string{}, Kind: string(e.Category), Types: e.Types, TotalCents: e.OrdinaryTotalCents}
			for _, iv := range e.Today.Spans {
				p.Spans = append(p.Spans, iv.String())
			}
			switch {
			case len(e.Transit.Metro) > 0:
				p.Transit = strings.Join(e.Transit.Metro, ", ")
			case e.Transit.Stop != "":
				p.Transit = e.Transit.Stop
			}
			d.Places = append(d.Places, p)
		}
		return d, nil
	}
}

// CachePath is the cache's file in a profile directory.
func CachePath(profile string) string { return filepath.Join(profile, "cache.json") }
