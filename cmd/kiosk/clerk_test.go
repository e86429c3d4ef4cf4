package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader/pcsc"
	"github.com/sportello/sportello/internal/cardreader/pcsctest"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/kiosk"
)

var (
	cieDocument = regexp.MustCompile(`document\s+CIE (\S+) NIS (\d{12}),.*\(valid\)`)
	clerkAdded  = regexp.MustCompile(`^(cl-\d+) active `)
)

// TestClerkEndToEnd is issue 13's named operator, end to end: city staff
// enable a clerk by codice fiscale with `hub clerk add`; the clerk's own
// virtual CIE sits on a private pcscd's vpcd reader; at the kiosk the clerk
// logs in with it and its PIN (the IAS secure channel), identifies a
// citizen by codice fiscale and document and issues. The certificate's
// record (`hub certificate show`), the audit log (`hub audit search`) and
// the console's audit and operator pages name the clerk; suspended with
// `hub clerk suspend`, the clerk's next request is refused and the kiosk
// is back at the log-in screen.
func TestClerkEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub and pcscd")
	}
	d := privatePCSCD(t)
	h := startHub(t, t.TempDir())
	citizen := h.resident(t)

	// The clerk: another resident holding a valid CIE.
	var clerkCF, clerkName, clerkNIS string
	for _, line := range strings.Split(h.run(t, "person list", "--data", h.data, "--limit", "200"), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] == citizen.CF {
			continue
		}
		m := cieDocument.FindStringSubmatch(h.run(t, "person", "show", "--data", h.data, "--cf", f[0], "--purpose", "test: abilitazione di un operatore"))
		if m != nil {
			clerkCF, clerkName, clerkNIS = f[0], strings.Join(f[2:], " ")+" "+f[1], m[2]
			break
		}
	}
	if clerkCF == "" {
		t.Fatal("no second resident holds a valid CIE")
	}
	var docNumber string
	if m := cieDocument.FindStringSubmatch(h.run(t, "person", "show", "--data", h.data, "--cf", citizen.CF, "--purpose", "test: documento del richiedente")); m != nil {
		docNumber = m[1]
	}
	today := time.Now().In(time.FixedZone("CET", 3600))
	out := h.run(t, "clerk", "add", "--data", h.data, "--operator", "op-0001", "--cf", clerkCF, "--name", clerkName,
		"--trained", today.AddDate(0, 0, -7).Format("2006-01-02"), "--until", today.AddDate(1, 0, 0).Format("2006-01-02"))
	m := clerkAdded.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("hub clerk add said %q", out)
	}
	clerkID := m[1]

	card, err := virtual.New(virtual.Config{NIS: clerkNIS})
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
	r := newKioskOn(t, h, kiosk.Operator, prov, pcsctest.Reader1)
	defer r.reader.Close()

	bg := context.Background()
	for i := 0; i < 100; i++ { // until pcscd has the card in slot 1
		if err = r.flow.LoginCard(bg, virtual.DemoPIN); err == nil {
			break
		}
		var p *kiosk.Problem
		if !errors.As(err, &p) || !strings.HasPrefix(p.Key, "card_") {
			t.Fatalf("log-in refused: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if v := r.flow.View(); v.Step != kiosk.StepIdentify || v.Staff == nil || v.Staff.ID != clerkID || v.Staff.Name != clerkName {
		t.Fatalf("after log-in: step %s, clerk %+v; want %s %s", v.Step, v.Staff, clerkID, clerkName)
	}
	if err := r.flow.IdentifyByCF(bg, citizen.CF, docNumber); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Choose(kiosk.Choice{SubjectCF: citizen.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Confirm(bg); err != nil {
		t.Fatal(err)
	}
	v := r.flow.View()
	if v.Result == nil || v.Result.Issued == nil {
		t.Fatalf("after confirming: step %s, result %+v, problem %v", v.Step, v.Result, v.Problem)
	}
	certID := v.Result.Issued.ID

	// The record, the audit log and the console name the clerk.
	if out := h.run(t, "certificate", "show", "--data", h.data, "--id", certID); !strings.Contains(out, "clerk      "+clerkName+" ("+clerkID+")") {
		t.Errorf("hub certificate show does not name the clerk:\n%s", out)
	}
	audited := h.run(t, "audit", "search", "--data", h.data, "--actor", "clerk:"+clerkID)
	if !strings.Contains(audited, "clerk:"+clerkID+" ("+clerkName+")") || !strings.Contains(audited, citizen.CF) || !strings.Contains(audited, certID) {
		t.Errorf("hub audit search --actor clerk:%s does not show the clerk's look-up and issuance:\n%s", clerkID, audited)
	}
	c := consoleClient(t, h)
	if body := consoleGet(t, c, h.url+"/admin/audit?actor="+url.QueryEscape("clerk:"+clerkID)); !strings.Contains(body, clerkName) || !strings.Contains(body, citizen.CF) {
		t.Error("the console's audit page does not name the clerk")
	}
	if body := consoleGet(t, c, h.url+"/admin/operators/op-0001"); !strings.Contains(body, clerkID) || !strings.Contains(body, clerkName) {
		t.Error("the console's operator page does not list the clerk")
	}

	// Suspended, the clerk's very next request is refused and the kiosk
	// asks for a log-in again.
	h.run(t, "clerk", "suspend", "--data", h.data, clerkID, "--reason", "test: sospensione")
	r.flow.Next()
	err = r.flow.IdentifyByCF(bg, citizen.CF, docNumber)
	var p *kiosk.Problem
	if !errors.As(err, &p) || p.Key != "hub_clerk_suspended" {
		t.Fatalf("a request of the suspended clerk: %v", err)
	}
	if v := r.flow.View(); v.Step != kiosk.StepLogin || v.Staff != nil || v.Problem == nil {
		t.Errorf("after the suspension: step %s, clerk %+v, problem %v", v.Step, v.Staff, v.Problem)
	}
}

// consoleClient is a browser logged in to the demo hub's console as its
// demo admin, trusting the demo hub's own certificate.
func consoleClient(t *testing.T, h *demoHub) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(filepath.Join(h.data, "tls", "cert.pem")); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	page := consoleGet(t, c, h.url+"/admin/login")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("the console's log-in page has no CSRF token")
	}
	resp, err := c.PostForm(h.url+"/admin/login", url.Values{"csrf": {csrf[1]}, "user": {"admin"}, "password": {"sportello-demo"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c
}

func consoleGet(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return string(b)
}
