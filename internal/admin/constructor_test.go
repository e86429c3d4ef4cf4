package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/hub/hubtest"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/registry"
)

// The console as hub serve mounts it (hub.New), beside the API and the
// public pages: staff log in, see the shops and a certificate the desk
// issued at the office, and the public directory lists the shops.
func TestConsoleThroughTheConstructor(t *testing.T) {
	h := hubtest.New(t)
	ctx := context.Background()
	now := h.Clock.Now()
	const password = "a long enough password"
	a, err := staff.NewAccount(nil, "clerk", "Addetto", staff.Clerk, password, now, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Staff.Add(a, false); err != nil {
		t.Fatal(err)
	}
	if err := hub.AddDemoOperators(h.Operators, now); err != nil {
		t.Fatal(err)
	}
	res, err := h.Desk.Issue(ctx, issuance.Request{SubjectCF: resident(t, h), Types: []string{"residenza"}, Channel: certificate.Office,
		Actor: audit.Actor{Kind: audit.Staff, ID: "clerk"}})
	if err != nil {
		t.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, login := fetch(t, c, h.URL+"/admin/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(login)
	if m == nil {
		t.Fatal("the log-in page has no CSRF token")
	}
	resp, err := c.PostForm(h.URL+"/admin/login", url.Values{"csrf": {m[1]}, "user": {"clerk"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log-in: %s", resp.Status)
	}
	if status, body := fetch(t, c, h.URL+"/admin/operators"); status != http.StatusOK || !strings.Contains(body, "Edicola Loreto") {
		t.Errorf("the operators' page (%d) does not list the demo shop", status)
	}
	// The certificate's page first asks the purpose of the read.
	if status, body := fetch(t, c, h.URL+"/admin/certificates/"+res.Record.ID); status != http.StatusOK || !strings.Contains(body, `action="/admin/certificates/`+res.Record.ID+`"`) {
		t.Errorf("the certificate's page (%d) does not ask the purpose of reading %s", status, res.Record.ID)
	}
	if status, body := fetch(t, http.DefaultClient, h.URL+"/directory"); status != http.StatusOK || !strings.Contains(body, "Edicola Loreto") {
		t.Errorf("the public directory (%d) does not list the demo shop", status)
	}
}

// resident is the first living resident a residenza is issued about.
func resident(t *testing.T, h *hubtest.Hub) string {
	t.Helper()
	var cf string
	err := h.Registry.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if _, res := p.CurrentResidence(); res && p.Alive() && !p.AIRE && !p.PartlyCertifiable {
				cf = p.CF
				return false, nil
			}
			return true, nil
		})
	})
	if err != nil || cf == "" {
		t.Fatalf("no resident (%v)", err)
	}
	return cf
}

func fetch(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
