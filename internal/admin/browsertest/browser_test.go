// Package browsertest drives the staff console and the public pages in
// headless Chromium against a real `hub serve --demo`, as a city's staff
// would use them: log-in, lock-out, approving an operator and issuing its
// enrolment code, downloading a settlement, verifying certificates.
//
// It needs Debian's chromium (make deps installs it). With -screenshots
// it also refreshes docs/screenshots/admin-*.png for the README.
package browsertest

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/hubclient"
)

var screenshots = flag.Bool("screenshots", false, "save screenshots of the main pages in docs/screenshots")

const demoPassword = "sportello-demo" // printed by hub serve --demo

type hubProc struct {
	url, data, bin string
	cert           string // the certificate the demo hub made for its HTTPS
	cmd            *exec.Cmd
}

func repoRoot(t *testing.T) string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	t.Fatal("go.mod not found above the test directory")
	return ""
}

// startHub builds the hub and starts `hub serve --demo` on a free port.
func startHub(t *testing.T) *hubProc {
	t.Helper()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hub")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hub")
	build.Dir = repoRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building hub: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	cmd := exec.Command(bin, "serve", "--demo", "--data", data, "--addr", "127.0.0.1:0")
	cmd.Stderr = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &hubProc{data: data, bin: bin, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(90 * time.Second)
	sawStaff := false
	for h.url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("hub serve --demo exited before listening")
			}
			if strings.HasPrefix(l, "staff log-in: admin / "+demoPassword) {
				sawStaff = true
			}
			if c, ok := strings.CutPrefix(l, "TLS certificate: "); ok {
				h.cert, _, _ = strings.Cut(c, " (SHA-256 ")
			}
			if u, ok := strings.CutPrefix(l, "hub listening on "); ok {
				h.url = u
			}
		case <-deadline:
			t.Fatal("hub serve --demo did not start within 90 s")
		}
	}
	if !sawStaff {
		t.Error("hub serve --demo did not print the staff log-in line")
	}
	if !strings.HasPrefix(h.url, "https://") || h.cert == "" {
		t.Fatalf("hub serve --demo serves %s with certificate %q, want HTTPS with its own", h.url, h.cert)
	}
	go func() {
		for range lines {
		}
	}()
	return h
}

func (h *hubProc) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(h.bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("hub %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newBrowser starts headless Chromium with the flags DESIGN.md lists,
// trusting h's own certificate (by its public key) and no other error.
func newBrowser(t *testing.T, h *hubProc) (context.Context, context.CancelFunc) {
	t.Helper()
	return newBrowserFor(t, h, 90*time.Second)
}

// newBrowserFor is newBrowser for a test that drives the console for
// longer than a page or two.
func newBrowserFor(t *testing.T, h *hubProc, limit time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	spki := spkiHash(t, h.cert)
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make deps` (Debian package chromium)")
	}
	// Not t.TempDir: Chromium's helper processes can still be writing to the
	// profile for a moment after the browser is gone, which fails TempDir's
	// cleanup. Remove it with retries instead.
	profile, err := os.MkdirTemp("", "sportello-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, limit)
	return ctx, func() { cancelT(); cancelC(); cancelA() }
}

// spkiHash is Chromium's pin of a certificate: the base64 SHA-256 of its
// public key.
func spkiHash(t *testing.T, certFile string) string {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s holds no PEM certificate", certFile)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func login(user, password string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible(`#user`, chromedp.ByQuery),
		chromedp.SetValue(`#user`, user, chromedp.ByQuery),
		chromedp.SetValue(`#password`, password, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitReady(`main h1`, chromedp.ByQuery),
	}
}

func text(sel string, out *string) chromedp.Action { return chromedp.Text(sel, out, chromedp.ByQuery) }

func TestConsole(t *testing.T) {
	h := startHub(t)
	ctx, cancel := newBrowser(t, h)
	defer cancel()
	shots := []string{}
	shoot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			if !*screenshots {
				return nil
			}
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			dir := filepath.Join(repoRoot(t), "docs", "screenshots")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			p := filepath.Join(dir, "admin-"+name+".png")
			shots = append(shots, p)
			return os.WriteFile(p, buf, 0o644)
		})
	}
	if err := chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(1280, 900, 1, false), cdplog.Enable()); err != nil {
		t.Fatal(err)
	}
	// Every page runs under a Content-Security-Policy with no inline
	// script or style allowed except by hash: Chromium reports anything it
	// blocks, and nothing may be.
	var cspMu sync.Mutex
	var blocked []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			cspMu.Lock()
			blocked = append(blocked, e.Entry.URL+": "+e.Entry.Text)
			cspMu.Unlock()
		}
	})
	defer func() {
		cspMu.Lock()
		defer cspMu.Unlock()
		for _, b := range blocked {
			t.Errorf("the browser blocked: %s", b)
		}
	}()

	t.Run("log-in", func(t *testing.T) {
		var h1 string
		if err := chromedp.Run(ctx, chromedp.Navigate(h.url+"/admin/"), shoot("login"), login("admin", demoPassword), text(`main h1`, &h1), shoot("dashboard")); err != nil {
			t.Fatal(err)
		}
		if h1 != "Riepilogo" {
			t.Fatalf("after log-in the page is %q, want the overview", h1)
		}
	})

	t.Run("lock-out", func(t *testing.T) {
		lctx, lcancel := chromedp.NewContext(ctx) // a second tab shares cookies: sign out first
		defer lcancel()
		var msg string
		tasks := chromedp.Tasks{chromedp.Navigate(h.url + "/admin/login")}
		for range 5 {
			tasks = append(tasks, login("clerk", "not the password"))
		}
		tasks = append(tasks, text(`[role=alert]`, &msg))
		if err := chromedp.Run(lctx, tasks); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "bloccato") {
			t.Fatalf("after 5 failures the page says %q, want the lock-out", msg)
		}
		// The right password is refused while locked.
		if err := chromedp.Run(lctx, login("clerk", demoPassword), text(`[role=alert]`, &msg)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "bloccato") {
			t.Fatalf("the right password during the lock-out: %q", msg)
		}
	})

	t.Run("approve operator", func(t *testing.T) {
		var status, flash, code, href string
		err := chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/admin/operators?status=applied"), shoot("operators"),
			chromedp.AttributeValue(`table tbody a`, "href", &href, nil, chromedp.ByQuery),
		)
		if err != nil {
			t.Fatal(err)
		}
		err = chromedp.Run(ctx,
			chromedp.Navigate(h.url+href),
			chromedp.SetValue(`#reason`, "convenzione firmata, documenti verificati", chromedp.ByQuery),
			chromedp.Click(`button[value=approved]`, chromedp.ByQuery),
			chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
			text(`.flash`, &flash), text(`#op-status`, &status),
			chromedp.Click(`#issue-code`, chromedp.ByQuery),
			chromedp.WaitVisible(`#enrol-code`, chromedp.ByQuery),
			text(`#enrol-code`, &code), shoot("operator"),
		)
		if err != nil {
			t.Fatal(err)
		}
		if status != "approvato" || !strings.Contains(flash, "approvata") {
			t.Fatalf("after approval: status %q, message %q", status, flash)
		}
		if !regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`).MatchString(strings.TrimSpace(code)) {
			t.Fatalf("enrolment code %q is not XXXX-XXXX-XXXX-XXXX", code)
		}
		id := strings.TrimPrefix(href, "/admin/operators/")
		if out := h.run(t, "operator", "show", "--data", h.data, id); !strings.Contains(out, "approved") || !strings.Contains(out, "staff:admin") {
			t.Errorf("hub operator show after the approval:\n%s", out)
		}
	})

	t.Run("clerks", func(t *testing.T) {
		// The demo enables one named clerk per active shop; staff suspend
		// them with a reason on the operator page, and reinstate them.
		var list, flash string
		err := chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/admin/operators/op-0001"),
			text(`#clerk-list`, &list), shoot("operator-clerks"),
			chromedp.SetValue(`#clerk-list input[name=reason]`, "formazione da rinnovare", chromedp.ByQuery),
			chromedp.Click(`#clerk-list button[value=suspended]`, chromedp.ByQuery),
			chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
			text(`.flash`, &flash),
		)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(list, "cl-0001") || !strings.Contains(list, "abilitato") || !strings.Contains(flash, "sospeso") {
			t.Fatalf("clerk list %q, message after suspending %q", list, flash)
		}
		if out := h.run(t, "clerk", "list", "--data", h.data, "--operator", "op-0001"); !strings.Contains(out, "suspended") {
			t.Errorf("hub clerk list after the suspension:\n%s", out)
		}
		// Reinstated, the clerk's row offers the suspension again.
		if err := chromedp.Run(ctx, chromedp.Click(`#clerk-list button[value=active]`, chromedp.ByQuery),
			chromedp.WaitVisible(`#clerk-list button[value=suspended]`, chromedp.ByQuery), text(`.flash`, &flash)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(flash, "riabilitato") {
			t.Errorf("message after reinstating %q", flash)
		}
	})

	var certIDs []string
	t.Run("settlement CSV", func(t *testing.T) {
		dir := t.TempDir()
		done := make(chan string, 1)
		chromedp.ListenTarget(ctx, func(ev any) {
			if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
				select {
				case done <- e.GUID:
				default:
				}
			}
		})
		err := chromedp.Run(ctx,
			browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(dir).WithEventsEnabled(true),
			chromedp.Navigate(h.url+"/admin/settlements"), shoot("settlements"),
			chromedp.Navigate(h.url+"/admin/settlements/op-0001"), shoot("settlement"),
			chromedp.Click(`#op-csv`, chromedp.ByQuery),
		)
		if err != nil {
			t.Fatal(err)
		}
		var guid string
		select {
		case guid = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("the CSV download did not complete")
		}
		f, err := os.Open(filepath.Join(dir, guid))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.Comma = ';' // for Italian spreadsheets: ';' between fields, decimal commas
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("the settlement is not CSV separated by ';': %v", err)
		}
		if len(rows) < 3 || rows[0][0] != "operatore" || rows[len(rows)-1][2] != "TOTALE" {
			t.Fatalf("unexpected CSV: %q", rows)
		}
		// The totals row is the sum of the lines.
		var sum [4]int64
		for _, r := range rows[1 : len(rows)-1] {
			certIDs = append(certIDs, r[2])
			for i := range sum {
				sum[i] += cents(t, r[8+i])
			}
		}
		for i := range sum {
			if got := cents(t, rows[len(rows)-1][8+i]); got != sum[i] {
				t.Errorf("column %s totals %d cents, the lines add up to %d", rows[0][8+i], got, sum[i])
			}
		}
	})

	t.Run("convention kit", func(t *testing.T) {
		dir := t.TempDir()
		done := make(chan string, 1)
		chromedp.ListenTarget(ctx, func(ev any) {
			if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
				select {
				case done <- e.GUID:
				default:
				}
			}
		})
		var label string
		err := chromedp.Run(ctx,
			browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(dir).WithEventsEnabled(true),
			chromedp.Navigate(h.url+"/admin/operators/op-0001"), text(`#convention-kit`, &label), shoot("operator-kit"),
			chromedp.Click(`#convention-kit`, chromedp.ByQuery),
		)
		if err != nil {
			t.Fatal(err)
		}
		if label != "Scarica il kit della convenzione" {
			t.Errorf("the kit's button reads %q", label)
		}
		var guid string
		select {
		case guid = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("the kit's download did not complete")
		}
		zr, err := zip.OpenReader(filepath.Join(dir, guid))
		if err != nil {
			t.Fatalf("the kit is not a zip: %v", err)
		}
		defer zr.Close()
		var names []string
		for _, f := range zr.File {
			names = append(names, filepath.Base(f.Name))
		}
		for _, want := range []string{"convenzione-op-0001.pdf", "SHA256SUMS", "conservazione.csv"} {
			if !slices.Contains(names, want) {
				t.Errorf("the kit holds %v, not %s", names, want)
			}
		}
	})

	t.Run("verification", func(t *testing.T) {
		if len(certIDs) < 2 {
			t.Fatalf("the demo hub issued %d certificates; the verification page needs two", len(certIDs))
		}
		h.run(t, "certificate", "revoke", "--data", h.data, "--id", certIDs[1], "--reason", "rilasciato per errore", "--authorised-by", "Mario Rossi, ufficiale d'anagrafe")
		var valid, revoked, unknown, background string
		err := chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/v/"+certIDs[0]), text(`[role=status]`, &valid), shoot("verify-valid"),
			// The page's inline style sheet applies: its CSP allows it by hash.
			chromedp.Evaluate(`getComputedStyle(document.querySelector('[role=status]')).backgroundColor`, &background),
			chromedp.Navigate(h.url+"/v/"+certIDs[1]), text(`[role=status]`, &revoked), shoot("verify-revoked"),
			chromedp.Navigate(h.url+"/v/NOTACERTIFICATE"), text(`[role=status]`, &unknown),
		)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(valid, "valido") || !strings.Contains(revoked, "revocato") || !strings.Contains(unknown, "sconosciuto") {
			t.Fatalf("verification pages say %q, %q, %q", valid, revoked, unknown)
		}
		if background != "rgb(227, 244, 225)" { // .valid{background:#e3f4e1}
			t.Errorf("the valid certificate's status has background %q: its style sheet did not apply", background)
		}
		// The console counted the failed and revoked verifications.
		var page string
		if err := chromedp.Run(ctx, chromedp.Navigate(h.url+"/admin/activity"), text(`main`, &page), shoot("activity")); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"verifiche di certificati sconosciuti", "verifiche di certificati revocati"} {
			if !strings.Contains(page, want) {
				t.Errorf("the activity page does not list %q", want)
			}
		}
	})

	// A kiosk of the demo shop floods the hub: past the first threshold
	// the console shows an alert, past the second the device is suspended;
	// staff review it with a note from the alerts page, which reinstates it.
	t.Run("alerts", func(t *testing.T) {
		h.run(t, "city", "set", "--data", h.data, "--limit-device-rate", "2", "--limit-flood-alert", "2", "--limit-flood-suspend", "4", "--by", "browser test")
		m := regexp.MustCompile(`enrolment code: (\S+)`).FindStringSubmatch(h.run(t, "operator", "enrol-code", "--data", h.data, "op-0001"))
		if m == nil {
			t.Fatal("hub operator enrol-code printed no code")
		}
		ca, err := os.ReadFile(h.cert)
		if err != nil {
			t.Fatal(err)
		}
		kiosk := &hubclient.Client{Retry: hubclient.Retry{Attempts: 1}}
		dev, err := kiosk.Enrol(context.Background(), h.url, m[1], "Cassa di prova", hubclient.EnrolOptions{HubCAPEM: string(ca)})
		if err != nil {
			t.Fatal(err)
		}
		var last error
		for range 8 {
			_, last = kiosk.Identify(context.Background(), api.IdentifyRequest{Requester: api.RequesterEvidence{Method: api.EvidenceDocument, CF: "RSSMRA50B17A558W", Document: "CA00000AA"}})
		}
		var ae *hubclient.APIError
		if !errors.As(last, &ae) || ae.Reason != "key_suspended" {
			t.Fatalf("the flooding kiosk's last answer: %v, want key_suspended", last)
		}
		var badge, page, flash string
		err = chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/admin/"), text(`#alerts-badge`, &badge),
			chromedp.Navigate(h.url+"/admin/alerts"), text(`main`, &page), shoot("alerts"),
		)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(badge, "1") || !strings.Contains(badge, "allerte da esaminare") {
			t.Errorf("the dashboard's badge says %q", badge)
		}
		for _, want := range []string{"Cassa di prova", "Edicola Loreto", "raffica di richieste oltre il limite", "sospensione", "sospeso"} {
			if !strings.Contains(page, want) {
				t.Errorf("the alerts page does not show %q:\n%s", want, page)
			}
		}
		err = chromedp.Run(ctx,
			chromedp.SetValue(`#note-`+dev.KeyID, "telefonato all'edicola: prova del personale", chromedp.ByQuery),
			chromedp.Submit(`#note-`+dev.KeyID, chromedp.ByQuery),
			chromedp.WaitVisible(`.flash`, chromedp.ByQuery), text(`.flash`, &flash),
		)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(flash, "riattivato") {
			t.Errorf("after the review the page says %q", flash)
		}
		if _, err := kiosk.Identify(context.Background(), api.IdentifyRequest{Requester: api.RequesterEvidence{Method: api.EvidenceDocument, CF: "RSSMRA50B17A558W", Document: "CA00000AA"}}); errors.As(err, &ae) && ae.Reason == "key_suspended" {
			t.Errorf("the reviewed kiosk is still suspended: %v", err)
		}
	})

	t.Run("other pages", func(t *testing.T) {
		var audit, dir, notices string
		err := chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/admin/notices"), text(`main`, &notices), shoot("notices"),
			chromedp.Navigate(h.url+"/admin/map"), shoot("map"),
			chromedp.Navigate(h.url+"/admin/fees"), shoot("fees"),
			chromedp.Navigate(h.url+"/admin/audit?cf=&actor=admin"), text(`main`, &audit), shoot("audit"),
			chromedp.Navigate(h.url+"/directory"), text(`main`, &dir), shoot("directory"),
			chromedp.Click(`.lang a`, chromedp.ByQuery), chromedp.WaitReady(`main h1`, chromedp.ByQuery),
			text(`main h1`, &dir),
		)
		if err != nil {
			t.Fatal(err)
		}
		// The demo hub runs with no notification channel, and says so.
		if !strings.Contains(notices, "Le notifiche ai cittadini sono spente") {
			t.Errorf("the notifications page says %q", notices)
		}
		if dir != "Where to get a certificate" {
			t.Errorf("after the language switch the directory's title is %q", dir)
		}
		_ = audit
	})
	// A registry clerk, in a browser of their own, finds a certificate by
	// the codice fiscale of the person it is about, opens it, revokes it
	// with a reason through the confirmation step, and sees it revoked,
	// with their name as the authoriser; the public page says so too.
	t.Run("certificate revoke", func(t *testing.T) {
		// The demo's clerk is locked out by now: a clerk of their own,
		// added as a city would, with the password on standard input.
		const password = "una password abbastanza lunga"
		add := exec.Command(h.bin, "staff", "add", "--data", h.data, "--user", "anagrafe", "--role", "clerk", "--name", "Giulia Neri")
		add.Stdin = strings.NewReader(password + "\n")
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("hub staff add: %v\n%s", err, out)
		}
		cctx, ccancel := newBrowser(t, h)
		defer ccancel()
		if err := chromedp.Run(cctx, emulation.SetDeviceMetricsOverride(1280, 900, 1, false), chromedp.Navigate(h.url+"/admin/"), login("anagrafe", password)); err != nil {
			t.Fatal(err)
		}
		// A day with certificates, from today back: the day's list names no one.
		var href string
		rome, err := time.LoadLocation("Europe/Rome")
		if err != nil {
			t.Fatal(err)
		}
		for back := 0; back < 40 && href == ""; back++ {
			day := time.Now().In(rome).AddDate(0, 0, -back).Format("2006-01-02")
			var n int
			if err := chromedp.Run(cctx, chromedp.Navigate(h.url+"/admin/certificates?day="+day),
				chromedp.Evaluate(`document.querySelectorAll('#cert-results tbody a').length`, &n)); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				if err := chromedp.Run(cctx, shoot("certificates-day"), chromedp.AttributeValue(`#cert-results tbody a`, "href", &href, nil, chromedp.ByQuery)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if href == "" {
			t.Fatal("the demo hub shows no certificates in the console")
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(href, "/admin/certificates/"), "?")
		m := regexp.MustCompile(`subject +(.*) \(([A-Z0-9]{16})\)`).FindStringSubmatch(h.run(t, "certificate", "show", "--data", h.data, "--id", id))
		if m == nil {
			t.Fatalf("hub certificate show names no subject for %s", id)
		}
		name, cf := m[1], m[2]
		var results, status, confirm, flash, by, verify string
		err = chromedp.Run(cctx,
			chromedp.Navigate(h.url+"/admin/certificates"),
			chromedp.SetValue(`#q`, strings.ToLower(cf), chromedp.ByQuery),
			chromedp.SetValue(`#purpose`, "verifica su richiesta dell'interessato", chromedp.ByQuery),
			chromedp.Submit(`#q`, chromedp.ByQuery),
			chromedp.WaitVisible(`#cert-results`, chromedp.ByQuery), text(`#cert-results`, &results), shoot("certificates-cf"),
			chromedp.Click(`#cert-results a[href^="/admin/certificates/`+id+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`#cert-status`, chromedp.ByQuery), text(`#cert-status`, &status), shoot("certificate"),
			chromedp.SetValue(`#reason`, "rilasciato per errore: dati da correggere", chromedp.ByQuery),
			chromedp.Click(`#revoke-start`, chromedp.ByQuery),
			chromedp.WaitVisible(`#revoke-confirm`, chromedp.ByQuery), text(`#confirm-reason`, &confirm), shoot("certificate-confirm"),
			chromedp.Click(`#revoke-yes`, chromedp.ByQuery),
			chromedp.WaitVisible(`.flash`, chromedp.ByQuery), text(`.flash`, &flash),
		)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(results, cf) || !strings.Contains(results, "intestatario") {
			t.Errorf("the search by %s lists %q", cf, results)
		}
		if strings.TrimSpace(status) != "valido" || confirm != "rilasciato per errore: dati da correggere" {
			t.Fatalf("before the revocation the status is %q, the confirmation shows %q", status, confirm)
		}
		if err := chromedp.Run(cctx, text(`#cert-status`, &status), text(`#cert-revokedby`, &by), shoot("certificate-revoked"),
			chromedp.Navigate(h.url+"/v/"+id), text(`[role=status]`, &verify)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(flash, "Certificato revocato") || !strings.HasPrefix(status, "revocato") || !strings.Contains(by, "staff:anagrafe (Giulia Neri)") {
			t.Errorf("after the revocation: message %q, status %q, authorised by %q", flash, status, by)
		}
		if !strings.Contains(verify, "revocato") {
			t.Errorf("the verification page of the revoked certificate says %q", verify)
		}
		if out := h.run(t, "certificate", "show", "--data", h.data, "--id", id); !strings.Contains(out, "revoked") || !strings.Contains(out, "dati da correggere") || !strings.Contains(out, "staff:anagrafe") {
			t.Errorf("hub certificate show after the revocation:\n%s", out)
		}
		// The day's register, with its CSV link.
		var reg string
		day := time.Now().In(rome).Format("2006-01-02")
		if err := chromedp.Run(cctx, chromedp.Navigate(h.url+"/admin/register?day="+day+"&purpose=controllo+del+registro"), text(`#register`, &reg), shoot("register")); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(reg, "Registro di protocollo del "+day) {
			t.Errorf("the register page shows %q", reg)
		}
		// The same person found by name, lower case, and shown in words;
		// then a codice fiscale with a mistyped check character, explained.
		var matches, person, explain string
		wrong := cf[:15] + map[bool]string{true: "A", false: "B"}[cf[15] != 'A']
		err = chromedp.Run(cctx,
			chromedp.Navigate(h.url+"/admin/persons"),
			chromedp.SetValue(`#q`, strings.ToLower(name), chromedp.ByQuery),
			chromedp.SetValue(`#purpose`, "verifica su richiesta dell'interessato", chromedp.ByQuery),
			chromedp.Submit(`#q`, chromedp.ByQuery),
			chromedp.WaitVisible(`#person-matches`, chromedp.ByQuery), text(`#person-matches`, &matches), shoot("persons-name"),
			chromedp.Click(`#person-matches a[href*="`+cf+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`#person`, chromedp.ByQuery), text(`#person`, &person), shoot("person"),
			chromedp.Navigate(h.url+"/admin/persons?q="+wrong+"&purpose=verifica"),
			chromedp.WaitVisible(`#cf-explain`, chromedp.ByQuery), text(`#cf-explain`, &explain), shoot("person-wrong-cf"),
		)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(matches, cf) || !strings.Contains(strings.ToUpper(person), strings.ToUpper(name)) || !strings.Contains(person, "Storia della residenza") {
			t.Errorf("the search by name %q lists %q; the person page says %q", name, matches, person)
		}
		if !strings.Contains(explain, "Il carattere 16") {
			t.Errorf("the wrong code %s is explained as %q", wrong, explain)
		}
	})

	if *screenshots {
		t.Logf("screenshots: %s", strings.Join(shots, " "))
	}
}

func cents(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, ok := strings.Cut(s, ",")
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if !ok || err1 != nil || err2 != nil || len(frac) != 2 {
		t.Fatalf("%q is not an amount with a decimal comma and two decimals", s)
	}
	return w*100 + f
}
