package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/synth"
	"github.com/sportello/sportello/internal/totp"
)

// TestDecideRequest: a shop's kiosk files a change of address for a
// resident of the demo city (identified by codice fiscale and identity
// document) and gets a protocol number; a registry clerk finds it in the
// console's queue for its kind with its silence-assent countdown, opens
// it with a purpose, sees its form and history, and accepts it; the page
// then says it is accepted, the kiosk reads it back accepted, and the
// person's record has the new address.
func TestDecideRequest(t *testing.T) {
	h := startHub(t)
	ctx, cancel := newBrowser(t, h)
	defer cancel()
	if err := chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(1280, 900, 1, false)); err != nil {
		t.Fatal(err)
	}
	// A resident who may file: an adult with a valid document and a
	// famiglia, living in the comune, with nothing open.
	today := registry.DateOf(time.Now())
	var p *registry.Person
	var doc registry.Document
	for _, line := range strings.Split(h.run(t, "person", "list", "--data", h.data, "--limit", "80"), "\n") {
		cf, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if len(cf) != 16 {
			continue
		}
		q, err := showPerson(t, h, cf)
		if err != nil {
			continue
		}
		cur, ok := q.CurrentResidence()
		d, valid := q.ValidDocument(today)
		if ok && valid && q.Alive() && !q.AIRE && q.Family != 0 && q.ProcedureOpen.IsZero() && cur.Address.Comune == "F205" && q.BirthDate.AgeAt(today) >= 20 {
			p, doc = q, d
			break
		}
	}
	if p == nil {
		t.Fatal("no resident of the demo city can file a request")
	}
	kiosk, _ := counterKiosk(t, h)
	street := synth.DefaultCity().Streets[7].Name
	filed, err := kiosk.FileRequest(context.Background(), api.RequestFiling{Kind: string(request.AddressChange), IdempotencyKey: "browser-1",
		Requester: &api.RequesterEvidence{Method: api.EvidenceDocument, CF: p.CF, Document: doc.Number},
		Form:      request.Form{Address: &request.AddressForm{Persons: []string{p.CF}, NewAddress: request.NewAddress{Street: street, Number: "17"}, Statement: true}}})
	if err != nil {
		t.Fatalf("filing: %v", err)
	}
	if filed.Protocol == "" || len(filed.SHA256) != 64 {
		t.Fatalf("filed as %+v", filed)
	}

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
			return os.WriteFile(filepath.Join(dir, "admin-"+name+".png"), buf, 0o644)
		})
	}
	var queue, status, flash, history, form string
	err = chromedp.Run(ctx,
		chromedp.Navigate(h.url+"/admin/"), login("clerk", demoPassword),
		chromedp.Navigate(h.url+"/admin/requests"), chromedp.WaitVisible(`#req-list`, chromedp.ByQuery),
		chromedp.Click(`#queue-cambio_indirizzo`, chromedp.ByQuery), chromedp.WaitVisible(`#req-`+filed.ID, chromedp.ByQuery),
		text(`#req-`+filed.ID, &queue), shoot("requests"),
		chromedp.Click(`#req-`+filed.ID+` a`, chromedp.ByQuery), chromedp.WaitVisible(`#req-purpose`, chromedp.ByQuery),
		chromedp.SetValue(`#purpose`, "istruttoria cambio di indirizzo", chromedp.ByQuery),
		chromedp.Click(`#req-show`, chromedp.ByQuery), chromedp.WaitVisible(`#req-history`, chromedp.ByQuery),
		text(`#req-form`, &form), shoot("request"),
		chromedp.SetValue(`#text`, "Accertamento della polizia locale positivo.", chromedp.ByQuery),
		chromedp.Click(`#req-accept`, chromedp.ByQuery),
		waitText(`.flash`, "Pratica accolta"), text(`.flash`, &flash), text(`#req-status`, &status), text(`#req-history`, &history), shoot("request-accepted"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(queue, filed.Protocol) || !strings.Contains(queue, "giorni al silenzio-assenso") {
		t.Errorf("the queue's row says %q", queue)
	}
	if !strings.Contains(form, street+" 17") || !strings.Contains(form, p.CF) {
		t.Errorf("the form shows %q", form)
	}
	if !strings.Contains(status, "accolta") || !strings.Contains(history, "presentata") || !strings.Contains(history, "accolta") || !strings.Contains(history, "staff:clerk") {
		t.Errorf("after accepting: status %q, history %q", status, history)
	}
	got, err := kiosk.Request(context.Background(), filed.ID)
	if err != nil || got.Status != string(request.Accepted) || got.Decision != "Accertamento della polizia locale positivo." {
		t.Errorf("the kiosk reads %+v, %v", got, err)
	}
	q, err := showPerson(t, h, p.CF)
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := q.CurrentResidence(); cur.Address.Street != street || cur.Address.Number != "17" || !q.ProcedureOpen.IsZero() {
		t.Errorf("after acceptance the record says %+v (procedure open %v)", cur.Address, q.ProcedureOpen)
	}
	// The decision is in the access log, under the clerk.
	if out := h.run(t, "audit", "search", "--data", h.data, "--cf", p.CF); !strings.Contains(out, "staff:clerk") || !strings.Contains(out, filed.Protocol) {
		t.Errorf("audit search for %s:\n%s", p.CF, out)
	}
}

// counterKiosk enrols a device of the demo's shop op-0001, as a shop's
// kiosk does with its enrolment code, and logs in a clerk there: the hub
// takes counter requests only under a clerk logged in at the device, one
// with a password and a code, as a shop without a card reader does. The
// client is the kiosk's own signed one. logIn logs the clerk in again:
// a clerk's session ends at midnight, which a test may run across.
func counterKiosk(t *testing.T, h *hubProc) (kiosk *hubclient.Client, logIn func()) {
	t.Helper()
	m := regexp.MustCompile(`enrolment code: (\S+)`).FindStringSubmatch(h.run(t, "operator", "enrol-code", "--data", h.data, "op-0001"))
	if m == nil {
		t.Fatal("hub operator enrol-code printed no code")
	}
	ca, err := os.ReadFile(h.cert)
	if err != nil {
		t.Fatal(err)
	}
	kiosk = &hubclient.Client{Retry: hubclient.Retry{Attempts: 1}}
	if _, err := kiosk.Enrol(context.Background(), h.url, m[1], "Cassa pratiche", hubclient.EnrolOptions{HubCAPEM: string(ca)}); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte("una password di prova\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(operators.Rome)
	out := h.run(t, "clerk", "add", "--data", h.data, "--operator", "op-0001", "--cf", "RSSMRA50B17A558W", "--name", "Mario Rossi",
		"--trained", now.AddDate(0, 0, -1).Format("2006-01-02"), "--until", now.AddDate(1, 0, 0).Format("2006-01-02"), "--password-file", pw)
	secret := regexp.MustCompile(`TOTP secret [^:]*: ([A-Z2-7]+)`).FindStringSubmatch(out)
	if secret == nil {
		t.Fatalf("hub clerk add printed no TOTP secret:\n%s", out)
	}
	logIn = func() {
		t.Helper()
		code, err := operators.TOTPCode(secret[1], totp.StepAt(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		sess, err := kiosk.LogInClerk(context.Background(), api.ClerkLogin{CF: "RSSMRA50B17A558W", Password: "una password di prova", TOTP: code})
		if err != nil {
			t.Fatalf("clerk log-in: %v", err)
		}
		kiosk.SetClerk(sess.Token)
	}
	logIn()
	return kiosk, logIn
}

// showPerson is `hub person show --json`'s person.
func showPerson(t *testing.T, h *hubProc, cf string) (*registry.Person, error) {
	var out struct {
		Person *registry.Person `json:"person"`
	}
	if err := json.Unmarshal([]byte(h.run(t, "person", "show", "--data", h.data, "--cf", cf, "--json", "--purpose", "prova della console")), &out); err != nil {
		return nil, err
	}
	if out.Person == nil {
		return nil, errors.New("no person in the answer")
	}
	return out.Person, nil
}
