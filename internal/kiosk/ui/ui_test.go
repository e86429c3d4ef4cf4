package ui

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/receipt"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata/")

var now = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)

type hub struct {
	offline bool
	gave    []api.DelegationRequest // delegations given (delegations_test.go)
	revoked []string
	filed   []api.RequestFiling // requests filed (requests_test.go)
}

func (h *hub) LookupPerson(context.Context, kiosk.PersonQuery) (*kiosk.Person, error) {
	return &kiosk.Person{CF: "RSSMRA50B17A558W", Surname: "ROSSI", GivenNames: "MARIO", BirthDate: "1950-02-17",
		Family: []kiosk.Member{{CF: "MRTMRA83T56A269B", Surname: "MORETTI", GivenNames: "MARIA", BirthDate: "1983-12-16", Relationship: 2}}}, nil
}

func (h *hub) Issue(_ context.Context, r kiosk.IssueRequest) (*kiosk.Issued, error) {
	if h.offline {
		return nil, fmt.Errorf("%w: down", kiosk.ErrOffline)
	}
	b, err := certificate.Fees(certificate.FeeRequest{Types: r.Types, Exemption: r.Exemption, ServiceCents: 150, Channel: certificate.Counter}, certificate.Policy{})
	if err != nil {
		return nil, err
	}
	return &kiosk.Issued{ID: "c1", Protocol: "2026/0000042", Title: certificate.Title(r.Types), Types: []string{"residenza"},
		Fees: b.Lines, TotalCents: b.TotalCents, VerifyURL: "https://hub.example/v/c1", Issued: now}, nil
}
func (h *hub) PDF(context.Context, string) ([]byte, error) { return []byte("%PDF-1.7"), nil }

// LogInClerk answers even while offline: the offline screens are of a
// clerk who logged in before the connection went.
func (h *hub) LogInClerk(context.Context, api.ClerkLogin) (*kiosk.Staff, error) {
	return &kiosk.Staff{ID: "cl-0001", Name: "Anna Bianchi"}, nil
}
func (h *hub) LogOutClerk() {}
func (h *hub) Ping(context.Context) error {
	if h.offline {
		return kiosk.ErrOffline
	}
	return nil
}

type reader struct{}

func (reader) ReadCard(context.Context) (*api.RequesterEvidence, error) {
	return &api.RequesterEvidence{Method: api.EvidenceCIE, NIS: "012345678901"}, nil
}
func (reader) VerifyPIN(context.Context, string) error { return nil }
func (reader) Status(context.Context) string           { return "" }

type printers struct{ n int }

func (p *printers) PrintA4(context.Context, string, []byte) error       { p.n++; return nil }
func (p *printers) PrintReceipt(context.Context, receipt.Receipt) error { p.n++; return nil }
func (p *printers) Status(context.Context) string                       { return "" }
func (p *printers) PrintClaim(context.Context, receipt.Claim) error     { p.n++; return nil }
func (p *printers) Jobs(name string, pdf []byte, _ receipt.Receipt) ([]printer.Job, error) {
	return []printer.Job{{ID: "a4", Name: name, Data: pdf}, {ID: "rc", Name: "ricevuta"}}, nil
}
func (p *printers) PrintJob(context.Context, string) error { p.n++; return nil }
func (p *printers) Spooled() ([]printer.Job, error)        { return nil, nil }

// outbox writes nothing down and delivers through the hub at once.
type outbox struct {
	hub     *hub
	n       int
	written int
	last    kiosk.IssueRequest
	left    []kiosk.Unfinished // what a stop left unanswered
}

// claims are the codes Enqueue hands out, one per request.
var claims = []string{"K7QX-M2PA", "B3NR-8TW2", "H5JK-9MP3"}

func (o *outbox) Enqueue(_ context.Context, r kiosk.IssueRequest, _ int64, _ bool) (string, error) {
	o.n++
	o.last = r
	o.written++
	return claims[(o.written-1)%len(claims)], nil
}

func (o *outbox) Deliver(ctx context.Context, _ string, render kiosk.Render) (*kiosk.Delivery, error) {
	is, err := o.hub.Issue(ctx, o.last)
	if err != nil {
		return nil, err
	}
	o.n--
	jobs, _ := render(is, []byte("%PDF-1.7"))
	d := &kiosk.Delivery{Issued: is, Claim: claims[(o.written-1)%len(claims)]}
	for _, j := range jobs {
		d.Jobs = append(d.Jobs, j.ID)
	}
	return d, nil
}
func (o *outbox) Dismiss(context.Context, string) error { return nil }
func (o *outbox) Unfinished(context.Context) ([]kiosk.Unfinished, error) {
	left := o.left
	o.left = nil
	return left, nil
}
func (o *outbox) Pending() (int, error) { return o.n, nil }

// Lookup knows one refused request, for the claim screen.
func (o *outbox) Lookup(_ context.Context, code string) (*kiosk.Claimed, error) {
	if code != "K7Q-XM2-PA4" {
		return nil, kiosk.ErrClaimUnknown
	}
	return &kiosk.Claimed{Code: code, State: kiosk.ClaimRefused, Queued: now.Add(-26 * time.Hour), AmountCents: 1802,
		Reason: "not_resident", Message: "the subject is no longer resident in the city"}, nil
}

// places is the directory's kept copy, two hours old.
func places(context.Context) (kiosk.Directory, error) {
	return kiosk.Directory{Cached: true, Fetched: now.Add(-2 * time.Hour), Places: []kiosk.Place{
		{Name: "Tabacchi Loreto", Category: "Tabaccheria", Address: "Piazzale Loreto 9, Milano", DistanceM: 450, Open: true, Spans: []string{"07:00-13:00", "15:00-19:30"}, Transit: "M1, M2"},
		{Name: "Anagrafe centrale", Category: "Ufficio comunale", Address: "Via Larga 12, Milano", DistanceM: 3100, Spans: []string{"08:30-15:30"}},
	}}, nil
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newFlow(t *testing.T, mode kiosk.Mode, h *hub) *kiosk.Flow {
	t.Helper()
	cfg := kiosk.Config{Mode: mode, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150,
		Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia, certificate.Nascita, certificate.Cittadinanza, certificate.StatoCivile}}
	f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: &clock{now}, Places: places})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func catalog(t *testing.T) *kiosk.Catalog {
	c, err := kiosk.LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// golden compares the window with testdata/NAME.png, or rewrites it with -update.
func golden(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	img := w.Canvas().Capture()
	path := filepath.Join("testdata", name+".png")
	if *update {
		writePNG(t, path, img)
		return
	}
	test.AssertImageMatches(t, name+".png", img)
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenScreens(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		mode     kiosk.Mode
		offline  bool
		contrast bool
		steps    func(f *kiosk.Flow) error
		want     kiosk.Step
	}{
		{"selfservice_start", kiosk.SelfService, false, false, func(f *kiosk.Flow) error { return nil }, kiosk.StepStart},
		{"selfservice_start_en_contrast", kiosk.SelfService, false, true, func(f *kiosk.Flow) error { return f.SetLang(kiosk.English) }, kiosk.StepStart},
		{"selfservice_pin", kiosk.SelfService, false, false, func(f *kiosk.Flow) error { return f.TapCard(ctx) }, kiosk.StepPIN},
		{"operator_login", kiosk.Operator, false, false, func(f *kiosk.Flow) error { return nil }, kiosk.StepLogin},
		{"operator_identify_wrong_cf", kiosk.Operator, false, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			f.IdentifyByCF(ctx, "RSSMRA50B17A558X", "CA12345AB")
			return nil
		}, kiosk.StepIdentify},
		{"operator_choose", kiosk.Operator, false, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			return f.TapCard(ctx)
		}, kiosk.StepChoose},
		{"operator_review", kiosk.Operator, false, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			f.TapCard(ctx)
			return f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
		}, kiosk.StepReview},
		// A marca da bollo read by a USB barcode reader (its AIM prefix
		// and Enter dropped) and a use abroad, shown for review.
		{"operator_review_contrassegno", kiosk.Operator, false, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			f.TapCard(ctx)
			return f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza},
				Contrassegno: "]C001234567890123\n", Use: "estero"})
		}, kiosk.StepReview},
		{"operator_done", kiosk.Operator, false, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			f.TapCard(ctx)
			f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
			return f.Confirm(ctx)
		}, kiosk.StepDone},
		{"operator_queued_offline", kiosk.Operator, true, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			f.TapCard(ctx)
			f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}, Exemption: fees.Exemption{Code: 9}})
			return f.Confirm(ctx)
		}, kiosk.StepDone},
		{"operator_summary", kiosk.Operator, false, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			for _, ts := range [][]certificate.Type{{certificate.Residenza}, {certificate.Nascita}} {
				f.TapCard(ctx)
				f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: ts})
				f.Confirm(ctx)
				f.Next()
			}
			return f.ShowSummary()
		}, kiosk.StepSummary},
		{"operator_review_cached_fees", kiosk.Operator, true, false, func(f *kiosk.Flow) error {
			f.SetAgreement(kiosk.Agreement{FeeCents: 150, Fetched: now.Add(-26*time.Hour - 20*time.Minute), Cached: true})
			f.LoginCard(ctx, "12345678")
			f.TapCard(ctx)
			return f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
		}, kiosk.StepReview},
		{"operator_places_cached", kiosk.Operator, true, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			return f.ShowPlaces(ctx)
		}, kiosk.StepPlaces},
		{"operator_claim_refused", kiosk.Operator, false, false, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			return f.Redeem(ctx, "K7Q-XM2-PA4")
		}, kiosk.StepClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			f := newFlow(t, tt.mode, &hub{offline: tt.offline})
			u := New(a, f, catalog(t))
			if tt.contrast {
				u.SetHighContrast(true)
			}
			w := test.NewTempWindow(t, u.Content())
			w.Resize(fyne.NewSize(1024, 720))
			if err := tt.steps(f); err != nil {
				t.Fatal(err)
			}
			f.RefreshStatus(ctx)
			if got := f.View().Step; got != tt.want {
				t.Fatalf("step %s, want %s (%v)", got, tt.want, f.View().Problem)
			}
			golden(t, w, tt.name)
		})
	}
}

// TestStatusBarFollowsTheFlow checks the bar's text changes with the hub's
// state, without an image.
func TestStatusBarFollowsTheFlow(t *testing.T) {
	a := test.NewTempApp(t)
	h := &hub{}
	f := newFlow(t, kiosk.Operator, h)
	u := New(a, f, catalog(t))
	w := test.NewTempWindow(t, u.Content())
	w.Resize(fyne.NewSize(1024, 720))
	f.RefreshStatus(context.Background())
	if !hasText(u.Content(), "Comune: collegato") {
		t.Fatal("online hub not shown")
	}
	h.offline = true
	f.RefreshStatus(context.Background())
	if !hasText(u.Content(), "Comune: non raggiungibile") {
		t.Fatal("offline hub not shown")
	}
	// A card placed on the log-in screen is shown, not read.
	if err := f.CardEvent(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if !hasText(u.Content(), "Lettore: carta appoggiata") || f.View().Step != kiosk.StepLogin {
		t.Fatalf("placed card not shown, or read before log-in (step %s)", f.View().Step)
	}
}

func hasText(o fyne.CanvasObject, s string) bool {
	switch o := o.(type) {
	case *widget.Label:
		return strings.Contains(o.Text, s)
	case *fyne.Container:
		for _, c := range o.Objects {
			if hasText(c, s) {
				return true
			}
		}
	}
	return false
}

// BenchmarkColdStart measures what the app does before its first screen:
// load the translations, make the flow and the views, lay out and render the
// first frame (with Fyne's software test driver).
func BenchmarkColdStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a := test.NewApp()
		cat, err := kiosk.LoadCatalog(assets.FS, "i18n")
		if err != nil {
			b.Fatal(err)
		}
		f, err := kiosk.New(kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola"},
			kiosk.Deps{Hub: &hub{}, Reader: reader{}, Printers: &printers{}})
		if err != nil {
			b.Fatal(err)
		}
		u := New(a, f, cat)
		w := test.NewWindow(u.Content())
		w.Resize(fyne.NewSize(1024, 720))
		if img := w.Canvas().Capture(); img.Bounds().Dx() == 0 {
			b.Fatal("empty first frame")
		}
		w.Close()
		a.Quit()
	}
}

// TestRecoveredReport: after a restart that finished a request left by a
// stop, the screen says so above whatever is on, until the operator has
// read it.
func TestRecoveredReport(t *testing.T) {
	a := test.NewTempApp(t)
	h := &hub{}
	ob := &outbox{hub: h, left: []kiosk.Unfinished{{Key: "k", Claim: "K7QX-M2PA", Types: []string{"residenza"}}}}
	ob.last, ob.written = kiosk.IssueRequest{Types: []certificate.Type{certificate.Residenza}}, 1
	f, err := kiosk.New(kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola"},
		kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: ob, Clock: &clock{now}})
	if err != nil {
		t.Fatal(err)
	}
	u := New(a, f, catalog(t))
	w := test.NewTempWindow(t, u.Content())
	w.Resize(fyne.NewSize(1024, 720))
	if _, err := f.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !hasText(u.Content(), "Dopo il riavvio") || !hasText(u.Content(), "Richiesta K7QX-M2PA completata: certificato 2026/0000042") {
		t.Fatal("the restart's report is not on the screen")
	}
	golden(t, w, "operator_recovered")
	f.SetLang(kiosk.English)
	if !hasText(u.Content(), "Request K7QX-M2PA finished: certificate 2026/0000042 issued") {
		t.Fatal("the report is not in English")
	}
	f.DismissRecovered()
	if hasText(u.Content(), "K7QX-M2PA") {
		t.Error("the report stays after the operator read it")
	}
}

// Kept keeps no request: the collection screens have their own outbox
// (pay_test.go).
func (o *outbox) Kept(context.Context, string) (kiosk.IssueRequest, error) {
	return kiosk.IssueRequest{}, kiosk.ErrClaimUnknown
}
func (o *outbox) Release(context.Context, string) error { return nil }
