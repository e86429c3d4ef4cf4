package admin

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/certbolt"
	"github.com/sportello/sportello/internal/store/bolt/citybolt"
	"github.com/sportello/sportello/internal/store/bolt/opbolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	bbolt "go.etcd.io/bbolt"
)

const pw = "a long enough password"

type fixture struct {
	srv   *httptest.Server
	con   *Console
	ops   *opbolt.Store
	certs *certbolt.Store
	db    *bbolt.DB // the fixture's file, for tests that age its records
	reg   registry.Store
	cf    string
	opID  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	now := time.Date(2026, 4, 7, 10, 0, 0, 0, operators.Rome)
	clock := func() time.Time { return now }
	st, err := registrybolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db := st.DB()
	stores := bolt.New(st)
	staffStore := staff.NewService(store.Domain(stores, store.Tx.Staff), clock)
	for _, r := range staff.Roles {
		a, err := staff.NewAccount(nil, string(r), "", r, pw, now, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := staffStore.Add(a, false); err != nil {
			t.Fatal(err)
		}
	}
	ops, err := opbolt.New(db, clock, operators.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	o := &operators.Operator{LegalName: "Edicola Test", PartitaIVA: "12345670157", Category: operators.Edicola,
		Address: operators.Address{Street: "Piazzale Loreto", Number: "1", CAP: "20131", City: "Milano", Lat: 45.48593, Lon: 9.21652},
		Agreement: &operators.Agreement{Signed: registry.DateOf(now.AddDate(0, -1, 0)), Expires: registry.DateOf(now.AddDate(1, 0, 0)), FeeCents: 150,
			Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "test"); err != nil {
		t.Fatal(err)
	}
	certs, err := certbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	birth := registry.Date{Year: 1950, Month: 2, Day: 17}
	cf := "RSSMRA50B17A558W" // DESIGN.md's reference code: Rossi Mario, 17.2.1950, A558
	if err := st.Update(context.Background(), func(w registry.Writer) error {
		return w.PutPerson(&registry.Person{CF: cf, Surname: "ROSSI", GivenNames: "MARIO", Sex: registry.Male, BirthDate: birth, BirthPlace: "A558", Citizenships: []string{registry.Italy}, CivilStatus: registry.Single})
	}); err != nil {
		t.Fatal(err)
	}
	settings, err := citybolt.New(db, clock, city.Milan())
	if err != nil {
		t.Fatal(err)
	}
	ops.PolicyIn = settings.PolicyIn
	con := &Console{Stores: stores, Staff: staffStore, Operators: ops.Service, Certs: certs, City: "Milano", FeeCapCents: 200, Settings: store.CityOf(stores, clock, city.Milan()), Now: clock}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write([]byte(`{"reason":"subject_not_found","message":"x"}`))
	})
	srv := httptest.NewServer(con.Wrap(api))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, con: con, ops: ops, certs: certs, db: db, reg: st, cf: cf, opID: o.ID}
}

// client is a browser: a cookie jar, no automatic redirects.
func (f *fixture) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	return page(t, resp, err)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	return page(t, resp, err)
}

// page reads the whole answer to a request that must have reached the server.
func page(t *testing.T, resp *http.Response, err error) (*http.Response, string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page has no CSRF token")
	}
	return m[1]
}

func (f *fixture) login(t *testing.T, user string) (*http.Client, string) {
	t.Helper()
	c := f.client(t)
	_, page := get(t, c, f.srv.URL+"/admin/login")
	resp, err := c.PostForm(f.srv.URL+"/admin/login", url.Values{"csrf": {csrfOf(t, page)}, "user": {user}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log-in as %s: %s", user, resp.Status)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/admin/" {
		t.Fatalf("session cookie %+v is not HttpOnly, SameSite=Strict, Path=/admin/", session)
	}
	_, home := get(t, c, f.srv.URL+"/admin/")
	return c, csrfOf(t, home)
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	_, page := get(t, c, f.srv.URL+"/admin/login")
	tok := csrfOf(t, page)
	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"no token", url.Values{"user": {"admin"}, "password": {pw}}, http.StatusForbidden},
		{"wrong password", url.Values{"csrf": {tok}, "user": {"admin"}, "password": {"nope"}}, http.StatusUnauthorized},
		{"unknown user", url.Values{"csrf": {tok}, "user": {"ghost"}, "password": {pw}}, http.StatusUnauthorized},
		{"right", url.Values{"csrf": {tok}, "user": {"admin"}, "password": {pw}}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		// Each answer sets a fresh log-in token: keep using the first one by
		// restoring the cookie, as a second tab would.
		u, _ := url.Parse(f.srv.URL + "/admin/")
		c.Jar.SetCookies(u, []*http.Cookie{{Name: loginCookie, Value: tok, Path: "/admin/"}})
		resp, err := c.PostForm(f.srv.URL+"/admin/login", tt.form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %s, want %d", tt.name, resp.Status, tt.status)
		}
	}
	if resp, _ := get(t, f.client(t), f.srv.URL+"/admin/operators"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
		t.Errorf("anonymous console page: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
}

func TestPermissions(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		role   string
		path   string
		status int
	}{
		{"finance", "/admin/settlements", 200},
		{"finance", "/admin/persons", 403},
		{"finance", "/admin/audit", 403},
		{"auditor", "/admin/audit", 200},
		{"auditor", "/admin/persons", 403},
		{"clerk", "/admin/settlements", 403},
		{"clerk", "/admin/operators/" + f.opID, 200},
		{"clerk", "/admin/staff", 403},
		{"admin", "/admin/staff", 200},
		{"admin", "/admin/settlements/" + f.opID + "/csv", 200},
		{"admin", "/admin/settlements/" + f.opID + "/pdf", 200},
		{"admin", "/admin/settlements?month=2026-13", 422},
		{"admin", "/admin/operators/op-9999", 404},
	}
	clients := map[string]*http.Client{}
	for _, tt := range tests {
		c := clients[tt.role]
		if c == nil {
			c, _ = f.login(t, tt.role)
			clients[tt.role] = c
		}
		if resp, _ := get(t, c, f.srv.URL+tt.path); resp.StatusCode != tt.status {
			t.Errorf("%s GET %s: %s, want %d", tt.role, tt.path, resp.Status, tt.status)
		}
	}
}

func TestApproveNeedsCSRF(t *testing.T) {
	f := newFixture(t)
	c, tok := f.login(t, "clerk")
	u := f.srv.URL + "/admin/operators/" + f.opID + "/status"
	resp, err := c.PostForm(u, url.Values{"to": {"approved"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("approval without CSRF token: %s", resp.Status)
	}
	if o, _ := f.ops.Get(f.opID); o.Status != operators.Applied {
		t.Fatalf("a forged form changed the status to %s", o.Status)
	}
	resp, err = c.PostForm(u, url.Values{"to": {"approved"}, "csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o, _ := f.ops.Get(f.opID)
	if resp.StatusCode != http.StatusSeeOther || o.Status != operators.Approved || o.History[len(o.History)-1].By != "staff:clerk" {
		t.Fatalf("approval: %s, status %s, history %+v", resp.Status, o.Status, o.History)
	}
	// The enrolment code is shown once, in the answer to the POST.
	resp, body := post(t, c, f.srv.URL+"/admin/operators/"+f.opID+"/code", url.Values{"csrf": {tok}})
	if resp.StatusCode != 200 || !regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`).MatchString(body) {
		t.Fatalf("enrolment code page: %s", resp.Status)
	}
}

func TestPersonReadIsAudited(t *testing.T) {
	f := newFixture(t)
	c, _ := f.login(t, "clerk")
	if resp, _ := get(t, c, f.srv.URL+"/admin/persons?cf="+f.cf); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("look-up without a purpose: %s", resp.Status)
	}
	if es, _ := f.con.auditLog(nil).Search(audit.Query{Subject: f.cf}, 0); len(es) != 0 {
		t.Fatalf("a refused look-up was recorded: %+v", es)
	}
	resp, body := get(t, c, f.srv.URL+"/admin/persons?cf="+f.cf+"&purpose="+url.QueryEscape("certificato allo sportello"))
	if resp.StatusCode != 200 || !strings.Contains(body, "ROSSI MARIO") {
		t.Fatalf("look-up: %s", resp.Status)
	}
	es, err := f.con.auditLog(nil).Search(audit.Query{Subject: f.cf}, 0)
	if err != nil || len(es) != 1 || es[0].Actor.String() != "staff:clerk" || es[0].Purpose != "certificato allo sportello" || es[0].Channel != "admin" {
		t.Fatalf("audit entries %+v, %v", es, err)
	}
	// The auditor's search by codice fiscale is recorded too.
	a, _ := f.login(t, "auditor")
	if _, body := get(t, a, f.srv.URL+"/admin/audit?cf="+f.cf); !strings.Contains(body, "staff:clerk") {
		t.Fatal("the auditor's search does not list the clerk's read")
	}
	if es, _ := f.con.auditLog(nil).Search(audit.Query{Subject: f.cf, Actor: "staff:auditor"}, 0); len(es) != 1 {
		t.Fatalf("the auditor's search was not recorded: %+v", es)
	}
}

func TestObserveCountsRefusals(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/v/UNKNOWN", "/v/OTHER"} {
		resp, err := http.Get(f.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Post(f.srv.URL+"/api/v1/certificates", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	day := f.con.now()
	evs, err := f.con.Staff.Events(protocol.DayOf(day), protocol.DayOf(day))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, e := range evs {
		got[e.Kind+"/"+e.Reason] = e.Count
	}
	// The stub API answers 422 to everything, so /v/ look-ups count as
	// neither valid nor unknown; the refused request counts by reason.
	if got[staff.EventRefused+"/subject_not_found"] != 1 || len(got) != 1 {
		t.Fatalf("events %v", got)
	}
}

func TestTemplateKeys(t *testing.T) {
	re := regexp.MustCompile(`\{\{t "([^"]+)"\}\}`)
	err := fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := files.ReadFile(p)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s uses message %q, which has no translation", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language", k)
		}
	}
}

func TestParseEuro(t *testing.T) {
	for in, want := range map[string]int64{"1,50": 150, "2": 200, "0.05": 5, "1,5": 150, " 2,00 € ": 200} {
		if got, err := parseEuro(in); err != nil || got != want {
			t.Errorf("parseEuro(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1,234", "-1"} {
		if _, err := parseEuro(in); err == nil {
			t.Errorf("parseEuro(%q) accepted", in)
		}
	}
}

// A form larger than any the console has is refused before it is parsed:
// Go's own bound for urlencoded bodies is 10 MB, and a hundred anonymous
// such posts to the log-in page took the hub to 3 GiB.
func TestOversizeFormRefused(t *testing.T) {
	f := newFixture(t)
	big := url.Values{"user": {"admin"}, "password": {"x"}, "junk": {strings.Repeat("A", maxFormBytes+1)}}
	resp, body := post(t, f.client(t), f.srv.URL+"/admin/login", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, reasonText("it", "form_too_large")) {
		t.Errorf("anonymous oversize log-in form: %s, want 413 with %q", resp.Status, reasonText("it", "form_too_large"))
	}
	c, csrf := f.login(t, "admin")
	big.Set("csrf", csrf)
	if resp, _ := post(t, c, f.srv.URL+"/admin/operators/"+f.opID+"/status", big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("signed-in oversize form: %s, want 413", resp.Status)
	}
	// A form of ordinary size still goes through the same door.
	if resp, _ := post(t, f.client(t), f.srv.URL+"/admin/login", url.Values{"user": {"admin"}, "password": {"x"}}); resp.StatusCode == http.StatusRequestEntityTooLarge {
		t.Errorf("ordinary form refused as too large")
	}
}
