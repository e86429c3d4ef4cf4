package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/cardreader/pcsc"
	"github.com/sportello/sportello/internal/cardreader/pcsctest"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/escpos/escposdec"
)

var (
	hubOnce sync.Once
	hubBin  string
	hubErr  error
)

// buildHub builds the real hub binary once for the package's tests.
func buildHub(tb testing.TB) string {
	tb.Helper()
	hubOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kiosk-e2e-hub")
		if err != nil {
			hubErr = err
			return
		}
		hubBin = filepath.Join(dir, "hub")
		cmd := exec.Command("go", "build", "-o", hubBin, "../hub")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			hubErr = fmt.Errorf("building the hub: %v\n%s", err, out)
		}
	})
	if hubErr != nil {
		tb.Fatal(hubErr)
	}
	return hubBin
}

// demoHub is a running `hub serve --demo` on a loopback port.
type demoHub struct {
	bin, data, url, code string
	cmd                  *exec.Cmd
	// enrolled is the demo shop's operator once its printed code is
	// used: another kiosk needs a code of its own.
	enrolled string
}

func startHub(tb testing.TB, data string, args ...string) *demoHub {
	tb.Helper()
	h := &demoHub{bin: buildHub(tb), data: data}
	h.cmd = exec.Command(h.bin, append([]string{"serve", "--demo", "--data", data, "--addr", "127.0.0.1:0"}, args...)...)
	h.cmd.Env = append(os.Environ(), "SPORTELLO_PUBLIC_URL=")
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	h.cmd.Stderr = io.Discard
	if err := h.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.stop() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(2 * time.Minute)
	for h.url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				tb.Fatal("the hub exited before listening")
			}
			if c, ok := strings.CutPrefix(l, "enrolment code: "); ok {
				h.code = c
			}
			if u, ok := strings.CutPrefix(l, "hub listening on "); ok {
				h.url = u
			}
		case <-timeout:
			tb.Fatal("the hub did not start within 2 minutes")
		}
	}
	go func() {
		for range lines {
		}
	}()
	return h
}

func (h *demoHub) stop() {
	if h.cmd.ProcessState == nil {
		h.cmd.Process.Signal(syscall.SIGTERM)
		h.cmd.Wait()
	}
}

// run runs a hub staff command (it goes through the serving hub).
func (h *demoHub) run(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command(h.bin, args...).Output()
	if err != nil {
		tb.Fatalf("hub %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

var (
	validCIE   = regexp.MustCompile(`(?m)^  document\s+CIE \S+ NIS (\d{12}),.*\(valid\)$`)
	gone       = regexp.MustCompile(`(?m)^  (died|AIRE) `)
	residing   = regexp.MustCompile(`(?m)^  residence `)
	famMembers = regexp.MustCompile(`(?m)^  famiglia anagrafica \d+:\n((?:    [A-Z0-9]{16} .*\n?)+)`)
)

// demoResident is a living resident of the demo city with a valid CIE, in
// a famiglia anagrafica with others: the hub identifies the citizen by the
// card and issues only about them and their household.
type demoResident struct {
	NIS, CF string
	Family  []string // the other members' codici fiscali
	Other   string   // a person of the registry outside the family
}

// resident finds one, as scripts/demo.sh does.
func (h *demoHub) resident(tb testing.TB) demoResident {
	tb.Helper()
	var list []string // codici fiscali, the first field of each line
	for _, line := range strings.Split(h.run(tb, "person list", "--data", h.data, "--limit", "200"), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			list = append(list, f[0])
		}
	}
	for _, cf := range list {
		show := h.run(tb, "person", "show", "--data", h.data, "--cf", cf, "--purpose", "test: titolare della CIE virtuale")
		m, fam := validCIE.FindStringSubmatch(show), famMembers.FindStringSubmatch(show)
		if m == nil || fam == nil || gone.MatchString(show) || !residing.MatchString(show) {
			continue
		}
		r := demoResident{NIS: m[1], CF: cf}
		for _, ml := range strings.Split(strings.TrimSpace(fam[1]), "\n") {
			if member := strings.Fields(ml)[0]; member != cf {
				r.Family = append(r.Family, member)
			}
		}
		for _, w := range list {
			if w != r.CF && !slices.Contains(r.Family, w) {
				r.Other = w
				break
			}
		}
		if len(r.Family) > 0 && r.Other != "" {
			return r
		}
	}
	tb.Fatal("no living demo resident with a family holds a valid CIE")
	return demoResident{}
}

// residentNIS is the NIS of such a resident's CIE.
func (h *demoHub) residentNIS(tb testing.TB) string { return h.resident(tb).NIS }

// kioskRig is the kiosk's flow wired to the real adapters, as app.go does.
type kioskRig struct {
	flow           *kiosk.Flow
	reader         *kiosk.CIEReader
	hub            *kiosk.ClientHub
	a4Dir, rcptDir string
	ob             *outbox.Outbox
	profile        *hubclient.Profile
}

func newKiosk(tb testing.TB, h *demoHub, mode kiosk.Mode, opts ...func(*kiosk.Config)) *kioskRig {
	tb.Helper()
	return newKioskOn(tb, h, mode, nil, "", opts...)
}

// newKioskOn is newKiosk reading cards from prov's reader; nil is an
// in-process virtual CIE of a demo resident. opts change the flow's
// configuration.
func newKioskOn(tb testing.TB, h *demoHub, mode kiosk.Mode, prov cardreader.Provider, readerName string, opts ...func(*kiosk.Config)) *kioskRig {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	cl := &hubclient.Client{}
	var opt hubclient.EnrolOptions
	if strings.HasPrefix(h.url, "https:") { // the demo hub's own certificate
		ca, err := os.ReadFile(filepath.Join(h.data, "tls", "cert.pem"))
		if err != nil {
			tb.Fatal(err)
		}
		opt.HubCAPEM = string(ca)
	}
	code := h.code
	if h.enrolled != "" {
		out := h.run(tb, "operator", "enrol-code", "--data", h.data, h.enrolled, "--by", "test")
		m := regexp.MustCompile(`enrolment code: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			tb.Fatalf("hub operator enrol-code printed %q", out)
		}
		code = m[1]
	}
	prof, err := cl.Enrol(ctx, h.url, code, "e2e-kiosk", opt)
	if err != nil {
		tb.Fatal(err)
	}
	h.enrolled = prof.OperatorID
	client := hubclient.New(prof)
	client.Retry = hubclient.Retry{Attempts: 1}
	hub := kiosk.NewClientHub(client)
	if prov == nil {
		card, err := virtual.New(virtual.Config{NIS: h.residentNIS(tb)})
		if err != nil {
			tb.Fatal(err)
		}
		prov = cardreader.NewInProcess("virtual", card)
	}
	ca, _ := virtual.TestCSCA()
	reader := &kiosk.CIEReader{Provider: prov, Reader: readerName, CSCAs: []*x509.Certificate{ca},
		KeyID: prof.KeyID, TapClock: client.HubNow}
	tb.Cleanup(func() { reader.Close() })
	if reader.PIN.Auth, err = virtual.TestDeviceAuth(); err != nil {
		tb.Fatal(err)
	}
	r := &kioskRig{reader: reader, hub: hub, a4Dir: filepath.Join(dir, "a4"), rcptDir: filepath.Join(dir, "receipts"), profile: prof}
	if r.ob, err = outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{Key: prof.DeviceKey}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.ob.Close() })
	spool := &kiosk.JobSpool{Outbox: r.ob}
	prof58, _ := escpos.Lookup("tm-t20", 0)
	printers := &kiosk.DevicePrinters{
		A4:      &printer.Printer{URI: "dir:" + r.a4Dir, Transport: &kiosk.DirTransport{Dir: r.a4Dir}, Spool: spool},
		Receipt: &printer.Printer{URI: "dir:" + r.rcptDir, Transport: &kiosk.DirTransport{Dir: r.rcptDir}, Spool: spool},
		Profile: prof58}
	// The agreement as app.go reads it: the fee and the city's fee policy.
	a, err := kiosk.FetchAgreement(client, time.Now)(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := kiosk.Config{Mode: mode, Shop: "Edicola E2E", OperatorID: prof.OperatorID, ServiceCents: a.FeeCents, Policy: a.Policy(certificate.Policy{})}
	for _, o := range opts {
		o(&cfg)
	}
	payments := kiosk.NewClientPayments(client)
	r.flow, err = kiosk.New(cfg, kiosk.Deps{Hub: hub, Reader: reader, Printers: printers, Payments: payments,
		Outbox: &kiosk.Queue{Outbox: r.ob, Hub: hub, Payments: payments, PayMethods: cfg.PayMethods}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func files(tb testing.TB, dir, ext string) []string {
	tb.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
	return m
}

// issueResidenza runs one customer: tap, residenza in bollo, confirm.
func (r *kioskRig) issueResidenza(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	if err := r.flow.TapCard(ctx); err != nil {
		tb.Fatal(err)
	}
	v := r.flow.View()
	if err := r.flow.Choose(kiosk.Choice{SubjectCF: v.Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		tb.Fatal(err)
	}
	if err := r.flow.Confirm(ctx); err != nil {
		tb.Fatal(err)
	}
}

// TestEndToEnd: a real demo hub on loopback, the kiosk enrolled with its
// code, the virtual CIE of a demo resident, a residenza issued and printed
// to files; the receipt decoded as a printer would read it.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	h := startHub(t, t.TempDir())
	r := newKiosk(t, h, kiosk.Operator)
	if err := r.flow.LoginCard(context.Background(), virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	r.issueResidenza(t)
	v := r.flow.View()
	if v.Step != kiosk.StepDone || v.Result == nil || v.Result.Issued == nil {
		t.Fatalf("after confirming: step %s, result %+v, problem %v", v.Step, v.Result, v.Problem)
	}
	is := v.Result.Issued
	if !regexp.MustCompile(`^\d{4}/\d{7}$`).MatchString(is.Protocol) || is.TotalCents != v.Preview.TotalCents {
		t.Errorf("issued %+v; the preview said %d cents", is, v.Preview.TotalCents)
	}
	pdfs, bins := files(t, r.a4Dir, ".pdf"), files(t, r.rcptDir, ".bin")
	if len(pdfs) != 1 || len(bins) != 1 {
		t.Fatalf("printed %v and %v", pdfs, bins)
	}
	pdf, _ := os.ReadFile(pdfs[0])
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Errorf("the A4 job is not a PDF")
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		txt, err := exec.Command("pdftotext", pdfs[0], "-").Output()
		if err != nil || !strings.Contains(string(txt), is.Protocol) || !strings.Contains(strings.ToUpper(string(txt)), "RESIDENZA") {
			t.Errorf("the certificate's text lacks its protocol %s or RESIDENZA (%v)", is.Protocol, err)
		}
	}
	raw, _ := os.ReadFile(bins[0])
	doc, err := escposdec.Decode(raw)
	if err != nil {
		t.Fatalf("the receipt is not clean ESC/POS: %v", err)
	}
	if _, ok := doc.Find(is.Protocol); !ok {
		t.Errorf("the receipt does not show protocol %s:\n%s", is.Protocol, doc.Text())
	}
	total := fmt.Sprintf("%d,%02d", is.TotalCents/100, is.TotalCents%100)
	if _, ok := doc.Find(total); !ok {
		t.Errorf("the receipt does not show the total %s:\n%s", total, doc.Text())
	}
	qr := ""
	for _, im := range doc.Images {
		if im.Kind == "qr" {
			qr = im.QRData
		}
	}
	if doc.Cuts != 1 || qr != is.VerifyURL || !strings.HasPrefix(qr, h.url+"/v/") {
		t.Errorf("receipt: %d cuts, QR %q, want the verification URL %s", doc.Cuts, qr, is.VerifyURL)
	}
	s, err := r.flow.Summary()
	if err != nil || s.Certificates != 1 || s.Collected != is.TotalCents {
		t.Errorf("summary %+v %v", s, err)
	}
}

// TestPreviewChargesWhatTheHubCharges: a city that changes the counter's
// diritti and turns on the stato civile exemption while kiosks run; a
// kiosk that fetches its agreement afterwards previews, for a residenza in
// bollo and for an exempt nascita, the total the hub then charges.
func TestPreviewChargesWhatTheHubCharges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	h := startHub(t, t.TempDir())
	h.run(t, "city", "set", "--data", h.data, "--diritti-counter", "0,60/0,30", "--birth-marriage-exempt", "on", "--by", "test")
	r := newKiosk(t, h, kiosk.Operator)
	ctx := context.Background()
	if err := r.flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		typ   certificate.Type
		total int64 // bollo, the city's diritti and the shop's 2,00 EUR
	}{
		{certificate.Residenza, 1600 + 60 + 200},
		{certificate.Nascita, 0 + 0 + 200},
	} {
		if err := r.flow.TapCard(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.flow.Choose(kiosk.Choice{SubjectCF: r.flow.View().Person.CF, Types: []certificate.Type{c.typ}}); err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		preview := r.flow.View().Preview.TotalCents
		if err := r.flow.Confirm(ctx); err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		v := r.flow.View()
		if v.Result == nil || v.Result.Issued == nil {
			t.Fatalf("%s: step %s, problem %v", c.typ, v.Step, v.Problem)
		}
		if got := v.Result.Issued.TotalCents; got != preview || got != c.total {
			t.Errorf("%s: the kiosk previewed %d cents, the hub charged %d; the city's settings make it %d", c.typ, preview, got, c.total)
		}
		r.flow.Next()
	}
}

// TestEndToEndPCSC: the demo hub, and the virtual CIE of a demo resident
// with a family on a private pcscd's vpcd reader, read by the kiosk through
// the real PC/SC stack. At the counter the tap identifies the citizen and a
// certificate about a member of their household is issued; at the
// self-service kiosk the same after the card took the PIN. The hub checks
// each tap itself: the chip answered a challenge bound to this device.
func TestEndToEndPCSC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub and pcscd")
	}
	d := privatePCSCD(t)
	h := startHub(t, t.TempDir())
	who := h.resident(t)
	card, err := virtual.New(virtual.Config{NIS: who.NIS})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	attached := make(chan error, 1)
	go func() { attached <- virtual.Attach(ctx, d.Port1, card, virtual.VPCDOptions{Retry: 10 * time.Second}) }()
	defer func() { cancel(); <-attached; waitEmpty(t) }()
	prov, err := pcsc.New()
	if err != nil {
		t.Fatal(err)
	}
	defer prov.Close()

	for _, mode := range []kiosk.Mode{kiosk.Operator, kiosk.SelfService} {
		t.Run(string(mode), func(t *testing.T) {
			r := newKioskOn(t, h, mode, prov, pcsctest.Reader1, tillNow)
			defer r.reader.Close()
			if mode == kiosk.Operator {
				if err := r.flow.LoginCard(context.Background(), virtual.DemoPIN); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			for i := 0; i < 100; i++ { // until pcscd has the card in slot 1
				if err = r.flow.TapCard(context.Background()); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Fatal(err)
			}
			if mode == kiosk.SelfService {
				if err := r.flow.EnterPIN(context.Background(), virtual.DemoPIN); err != nil {
					t.Fatal(err)
				}
			}
			v := r.flow.View()
			if v.Person == nil || v.Person.CF != who.CF || len(v.Person.Family) == 0 {
				t.Fatalf("identified %+v, want %s with a family", v.Person, who.CF)
			}
			if mode == kiosk.Operator {
				// At the counter anyone may be chosen; the hub refuses a
				// subject outside the requester's household, with its one
				// reason, and nothing is issued.
				if err := r.flow.Choose(kiosk.Choice{SubjectCF: who.Other, Types: []certificate.Type{certificate.Residenza}}); err != nil {
					t.Fatal(err)
				}
				var p *kiosk.Problem
				if err := r.flow.Confirm(context.Background()); !errors.As(err, &p) || p.Key != "hub_not_requester_household" {
					t.Fatalf("a certificate about someone else: %v, want hub_not_requester_household", err)
				}
				if err := r.flow.Back(); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.flow.Choose(kiosk.Choice{SubjectCF: who.Family[0], Types: []certificate.Type{certificate.Residenza}}); err != nil {
				t.Fatal(err)
			}
			if err := r.flow.Confirm(context.Background()); err != nil {
				t.Fatal(err)
			}
			if mode == kiosk.SelfService {
				// Nothing prints before it is paid: at the shop's till.
				if pdfs := files(t, r.a4Dir, ".pdf"); len(pdfs) != 0 {
					t.Fatalf("printed %v before the payment", pdfs)
				}
				payAtTill(t, h, r)
			}
			if v := r.flow.View(); v.Step != kiosk.StepDone || v.Result == nil || v.Result.Issued == nil {
				t.Fatalf("after confirming: step %s, result %+v, problem %v", v.Step, v.Result, v.Problem)
			}
			if pdfs := files(t, r.a4Dir, ".pdf"); len(pdfs) != 1 {
				t.Errorf("printed %v", pdfs)
			}
		})
	}
}

// TestOfflineThenOnline: with the hub stopped, a confirmed request is queued
// with a claim code; once the hub is back the sender delivers it exactly once
// and the kiosk prints it.
func TestOfflineThenOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	data := t.TempDir()
	h := startHub(t, data)
	r := newKiosk(t, h, kiosk.Operator)
	r.flow.LoginCard(context.Background(), virtual.DemoPIN)
	ctx := context.Background()
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	v := r.flow.View()
	if err := r.flow.Choose(kiosk.Choice{SubjectCF: v.Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	// The agreement and the directory are kept while the hub answers...
	cache := &kiosk.Cache{Path: filepath.Join(t.TempDir(), "cache.json")}
	client := r.hub.C
	fresh, err := cache.Agreement(ctx, kiosk.FetchAgreement(client, time.Now))
	if err != nil || fresh.Cached || len(fresh.Types) == 0 {
		t.Fatalf("agreement from the hub: %+v %v", fresh, err)
	}
	places := kiosk.FetchDirectory(client, 45.4642, 9.19, time.Now)
	if d, err := cache.Directory(ctx, places); err != nil || d.Cached || len(d.Places) == 0 || d.Places[0].TotalCents == nil || d.Places[0].Kind == "" {
		t.Fatalf("directory from the hub (with each place's kind and total price): %+v %v", d, err)
	}
	h.stop()
	// ...and read back, with their age, once it does not.
	if a, err := cache.Agreement(ctx, kiosk.FetchAgreement(client, time.Now)); err != nil || !a.Cached || a.FeeCents != fresh.FeeCents || !a.Fetched.Equal(fresh.Fetched) {
		t.Errorf("agreement with the hub down: %+v %v", a, err)
	}
	if d, err := cache.Directory(ctx, places); err != nil || !d.Cached || len(d.Places) == 0 {
		t.Errorf("directory with the hub down: %+v %v", d, err)
	}
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	v = r.flow.View()
	if v.Result == nil || v.Result.Claim == "" || v.Status.HubOnline {
		t.Fatalf("offline confirm: %+v status %+v", v.Result, v.Status)
	}
	if st, _ := r.ob.Stats(); st.Pending != 1 {
		t.Fatalf("outbox pending %d", st.Pending)
	}
	// The citizen leaves with a claim receipt: no certificate, the code
	// large and in the QR, the fees agreed, the promise.
	claimBins := files(t, r.rcptDir, ".bin")
	if len(claimBins) != 1 || len(files(t, r.a4Dir, ".pdf")) != 0 {
		t.Fatalf("offline, printed %v receipts and %v certificates; want one claim receipt", claimBins, files(t, r.a4Dir, ".pdf"))
	}
	raw, _ := os.ReadFile(claimBins[0])
	doc, err := escposdec.Decode(raw)
	if err != nil {
		t.Fatalf("the claim receipt is not clean ESC/POS: %v", err)
	}
	if l, ok := doc.Find(v.Result.Claim); !ok || l.Width != 2 {
		t.Errorf("the claim receipt does not show the code %s large:\n%s", v.Result.Claim, doc.Text())
	}
	total := fmt.Sprintf("%d,%02d", v.Preview.TotalCents/100, v.Preview.TotalCents%100)
	text := strings.Join(strings.Fields(doc.Text()), " ")
	for _, w := range []string{"RICEVUTA DI PRENOTAZIONE", "Certificato di residenza", total, "quando tornerai con questa ricevuta"} {
		if !strings.Contains(text, w) {
			t.Errorf("the claim receipt does not say %q:\n%s", w, doc.Text())
		}
	}
	if len(doc.Images) != 1 || doc.Images[0].QRData != v.Result.Claim {
		t.Errorf("the claim receipt's QR does not hold the claim code %s", v.Result.Claim)
	}
	if c, err := (&kiosk.Queue{Outbox: r.ob}).Lookup(ctx, strings.ToLower(v.Result.Claim)); err != nil || c.State != kiosk.ClaimQueued {
		t.Errorf("the typed claim code finds %+v, %v; want it queued", c, err)
	}
	r.flow.Next()

	// The hub comes back (on a new port): point the client there and drain.
	h2 := startHub(t, data)
	r.profile.HubURL = h2.url
	// The first contact reports the backlog: one request, its amount.
	var reported []hubclient.Backlog
	reporter := &kiosk.BacklogReporter{Stats: r.ob.Stats, Send: func(ctx context.Context, b hubclient.Backlog) error {
		reported = append(reported, b)
		return r.hub.C.ReportBacklog(ctx, b)
	}}
	if err := reporter.Report(ctx); err != nil || len(reported) != 1 || reported[0].Pending != 1 || reported[0].AmountCents != v.Preview.TotalCents {
		t.Fatalf("backlog report to the real hub: %+v %v", reported, err)
	}
	delivered := 0
	var log bytes.Buffer
	sender := r.ob.NewSender(kiosk.Deliverer(r.hub, r.flow.Render()), outbox.SenderOptions{OnResult: func(o outbox.Outcome) {
		if o.Entry.State == outbox.Delivered {
			delivered++
		}
		settleOutcome(ctx, r.flow, o, slog.New(slog.NewTextHandler(&log, nil)))
	}})
	for i := 0; i < 2; i++ { // a second drain finds nothing to send again
		if _, err := sender.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if delivered != 1 {
		t.Fatalf("delivered %d times", delivered)
	}
	if len(files(t, r.a4Dir, ".pdf")) != 1 || len(files(t, r.rcptDir, ".bin")) != 2 {
		t.Errorf("the delivered certificate was not printed (%s)", log.String())
	}
	if e, err := r.ob.Lookup(v.Result.Claim); err != nil || e.State != outbox.Delivered || e.ResultRef == "" {
		t.Errorf("claim %s: %+v %v", v.Result.Claim, e, err)
	}
	// The day's account counts it as issued, with its protocol number.
	s, err := r.flow.Summary()
	if err != nil || s.Queued != 0 || s.Certificates != 1 || len(s.Protocols) != 1 || s.Collected != v.Preview.TotalCents || s.QueuedCents != 0 {
		t.Fatalf("summary after delivery %+v %v", s, err)
	}
	// The citizen comes back with the receipt: the operator types the code
	// and the certificate is printed again, from the hub, without a second issuance.
	if err := r.flow.Redeem(ctx, v.Result.Claim); err != nil {
		t.Fatal(err)
	}
	w := r.flow.View()
	if w.Step != kiosk.StepDone || w.Result == nil || w.Result.Issued == nil || w.Result.Issued.Protocol != s.Protocols[0] {
		t.Fatalf("after redeeming: step %s, result %+v, problem %v", w.Step, w.Result, w.Problem)
	}
	pdfs := files(t, r.a4Dir, ".pdf")
	if len(pdfs) != 2 || len(files(t, r.rcptDir, ".bin")) != 3 {
		t.Errorf("redeeming printed %d certificates in all, want 2", len(pdfs))
	}
	if s2, _ := r.flow.Summary(); s2.Certificates != 1 || s2.Transactions != 1 {
		t.Errorf("redeeming changed the day's account: %+v", s2)
	}
}

// BenchmarkTapToPrinted measures one customer from card tap to both
// printouts written, with the hub on loopback.
func BenchmarkTapToPrinted(b *testing.B) {
	h := startHub(b, b.TempDir())
	r := newKiosk(b, h, kiosk.Operator)
	r.flow.LoginCard(context.Background(), virtual.DemoPIN)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.issueResidenza(b)
		r.flow.Next()
	}
}

// TestAppCommandLine: `kiosk` with flags only is the app, `kiosk help` is
// still the list of commands, and the app refuses bad flags and an
// unenrolled profile before opening any window.
func TestAppCommandLine(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{[]string{"help"}, 0, "kiosk enrol", ""},
		{[]string{"version"}, 0, "kiosk dev (" + runtime.GOOS + "/" + runtime.GOARCH + ", go", ""},
		{[]string{"version", "extra"}, 2, "", "unexpected argument"},
		{[]string{"--help"}, 0, "kiosk run", ""},
		{[]string{"--bogus"}, 2, "", "usage: kiosk run"},
		{[]string{"--lang", "fr", "--profile", empty}, 2, "", "neither it nor en"},
		{[]string{"--hub", "http://hub.example.it", "--profile", empty}, 2, "", "https://"},
		{[]string{"--demo", "--profile", empty}, 1, "", "not enrolled"},
		{[]string{"run", "--mode", "kiosk", "--profile", empty}, 1, "", "not enrolled"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runPrinterCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.inStdout) || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d with %q / %q", code, stdout, stderr, tt.code, tt.inStdout, tt.inStderr)
			}
		})
	}
}
