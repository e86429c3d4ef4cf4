// Package admin is the city staff's console and the hub's public pages,
// served with html/template from embedded files: no front-end build, no
// script needed to use any page. Staff sign in with a password (and a TOTP
// code when they enabled one); each page needs a permission of the staff
// member's role; every form carries a CSRF token; every read of a person's
// data through the console is written to the audit log before it is shown.
//
// Routes (mounted beside the API by Console.Wrap):
//
//	/admin/…             the console (see routes)
//	/directory           the public directory: map, hours, transit lines
//	/static/sportello.css
//
// Wrap also watches the API's answers to count refused certificate
// requests, refused signatures and failed verifications per day.
package admin

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/convention"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/settlement"
	"github.com/sportello/sportello/internal/store"
)

//go:embed templates/*.html static/*
var files embed.FS

// Console holds what the pages need. All stores share the hub's one file.
type Console struct {
	// Stores is the hub's storage, every domain in one transaction
	// (issue 16: DB and the concrete stores below move to it).
	Stores    store.Store
	Staff     *staff.Service
	Operators *operators.Service
	Certs     certificate.Store // certificate/certbolt on the hub's file
	// City is the comune's name, shown in page headers.
	City string
	// FeeCapCents is the city's cap on the operator's service fee when
	// Settings is nil.
	FeeCapCents int
	// Settings are the city's settings in the hub's file; with them the
	// admin may change the fee cap from the fee page.
	Settings *city.Settings
	// Limits are the hub's rate limits and anomaly flags (package limits):
	// their alerts page and the review that reinstates a suspended device.
	// nil hides the alerts.
	Limits *limits.Guard
	// Districts maps CAPs to district names for settlements (see package
	// settlement); nil gives one district per CAP.
	Districts settlement.Districts
	// Kit are the convention kit's sections beyond the operator and the
	// audit log, which the console adds from its own stores.
	Kit convention.Sources
	// Notices is the citizens' notification queue; nil says notifications
	// are off.
	Notices NoticeList
	// Requests is the desk of demographic requests (requests.go); nil
	// hides them.
	Requests *desk.Desk
	// Appointments is the registry offices' appointments; nil says the
	// hub books none.
	Appointments *appointment.Service
	Now          func() time.Time
	Log          *slog.Logger
	Rand         io.Reader // codes and tokens; crypto/rand when nil

	tmpl map[string]map[string]*template.Template // lang → page → template
}

// Cookie names. The session cookie is scoped to /admin/.
const (
	sessionCookie = "sportello_session"
	loginCookie   = "sportello_login"
	langCookie    = "sportello_lang"
)

// Wrap returns a handler that serves the console and the public pages and
// passes every other request to api, counting its refusals.
func (c *Console) Wrap(api http.Handler) http.Handler {
	if err := c.init(); err != nil {
		panic(err) // embedded templates: a broken build, caught by the tests
	}
	mux := http.NewServeMux()
	c.routes(mux)
	mux.HandleFunc("GET /directory", c.publicDirectory)
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	mux.Handle("/", c.observe(api))
	return baseHeaders(limitForms(mux))
}

// maxFormBytes bounds what a console form may send. The largest, an
// agreement or a week of opening hours, is a few kilobytes; without a bound
// Go reads up to 10 MB of any urlencoded body into memory, and a hundred
// anonymous posts to the log-in page took the hub to 3 GiB.
const maxFormBytes = 64 << 10

// limitForms caps the body of every console request that is not a GET;
// the kiosk API, under /api/, keeps its own limits.
func limitForms(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && strings.HasPrefix(r.URL.Path, "/admin/") {
			limit := int64(maxFormBytes)
			if strings.HasPrefix(r.URL.Path, "/admin/requests/") && strings.HasSuffix(r.URL.Path, "/accept") {
				// The acceptance of a historical certificate request
				// carries the office's prepared PDF.
				limit += request.MaxAttachmentBytes
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		h.ServeHTTP(w, r)
	})
}

// baseHeaders gives every answer, whoever writes it (a redirect, a plain
// error, a download, the API, a style sheet), the headers that keep it
// from being sniffed into another type or framed by another site, and a
// Content-Security-Policy that allows nothing. Pages replace that policy
// with their own (render, and the verification page of package hubapi).
func baseHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		h.ServeHTTP(w, r)
	})
}

// reads records reads of persons' data in the audit log, each with its
// own commit, anchored (Stores anchors in the hub) before it returns.
func (c *Console) reads() store.Recorder { return store.NewRecorder(c.Stores, c.now) }

// auditLog is the audit log outside a transaction, under r's context
// (nil r: Background).
func (c *Console) auditLog(r *http.Request) store.AuditLog {
	if r == nil {
		return store.AuditLog{S: c.Stores}
	}
	return store.AuditLog{S: c.Stores, Ctx: r.Context()}
}

func (c *Console) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Console) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

func (c *Console) init() error {
	if c.tmpl != nil {
		return nil
	}
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return err
	}
	c.tmpl = map[string]map[string]*template.Template{}
	for _, lang := range languages {
		c.tmpl[lang] = map[string]*template.Template{}
		base, err := template.New("layout.html").Funcs(funcs(lang)).ParseFS(files, "templates/layout.html")
		if err != nil {
			return err
		}
		for _, p := range pages {
			name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
			if name == "layout" {
				continue
			}
			t, err := template.Must(base.Clone()).ParseFS(files, p)
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			c.tmpl[lang][name] = t
		}
	}
	return nil
}

// view is what every page template gets.
type view struct {
	Lang      string
	Other     string // the language to switch to
	Path      string // the current URL, for the language switch
	Title     string
	City      string
	User      *staff.Account
	CSRF      string
	Nav       []navItem
	Flash     string
	Error     string
	Reason    string // the machine reason code of Error, sent as Sportello-Reason too
	Public    bool
	Data      any
	NowString string
}

type navItem struct {
	Href, Key string
	Current   bool
}

// nav lists the pages the role may open.
var navPages = []struct {
	href, key string
	perm      staff.Permission
}{
	{"/admin/", "nav.home", ""},
	{"/admin/operators", "nav.operators", staff.ViewOperators},
	{"/admin/map", "nav.map", staff.ViewOperators},
	{"/admin/fees", "nav.fees", staff.ViewFees},
	{"/admin/settlements", "nav.settlements", staff.ViewSettlements},
	{"/admin/activity", "nav.activity", staff.ViewActivity},
	{"/admin/alerts", "nav.alerts", staff.ViewOperators},
	{"/admin/persons", "nav.persons", staff.ReadPersons},
	{"/admin/certificates", "nav.certificates", staff.ReadCertificates},
	{"/admin/register", "nav.register", staff.ReadCertificates},
	{"/admin/requests", "nav.requests", staff.ReviewRequests},
	{"/admin/audit", "nav.audit", staff.SearchAudit},
	{"/admin/notices", "nav.notices", staff.ViewActivity},
	{"/admin/appointments", "nav.appointments", staff.ReadPersons},
	{"/admin/staff", "nav.staff", staff.ManageStaff},
	{"/admin/account", "nav.account", ""},
}

func (c *Console) newView(r *http.Request, titleKey string) *view {
	lang := langOf(r)
	v := &view{Lang: lang, Other: otherLang(lang), Path: r.URL.RequestURI(), Title: tr(lang, titleKey), City: c.City,
		NowString: c.now().In(operators.Rome).Format("02/01/2006 15:04")}
	if a, s := authOf(r); a != nil {
		v.User, v.CSRF = a, s.CSRF
		for _, p := range navPages {
			if p.perm == "" || a.Role.Can(p.perm) {
				cur := r.URL.Path == p.href || (p.href != "/admin/" && strings.HasPrefix(r.URL.Path, p.href))
				v.Nav = append(v.Nav, navItem{Href: p.href, Key: p.key, Current: cur})
			}
		}
	}
	if k := r.URL.Query().Get("done"); k != "" && knownKey(lang, "done."+k) {
		v.Flash = tr(lang, "done."+k)
	}
	return v
}

// render writes page name with v; a template failure is logged and
// answered with a plain 500, before anything was written.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t := c.tmpl[v.Lang][name]
	if t == nil {
		c.log().Error("admin: no template", "name", name)
		http.Error(w, "internal error", fault.Internal.Status())
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.log().Error("admin: template", "name", name, "err", err)
		http.Error(w, "internal error", fault.Internal.Status())
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if v.Reason != "" {
		w.Header().Set(reasonHeader, v.Reason)
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// reasonHeader carries the machine reason code of a refusal on the
// console's pages, as the API's Problem body does.
const reasonHeader = "Sportello-Reason"

// pageCSP is the policy of every page the console renders: style sheets
// and images from the hub only (the maps and QR codes are inline SVG
// markup, which needs no exception), no script at all (no page needs
// one), never inside a frame, forms posted only to the hub.
const pageCSP = "default-src 'none'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// securityHeaders gives a page its own policy; baseHeaders (Wrap) has set
// nosniff, X-Frame-Options and Referrer-Policy on every answer already.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
}

// redirect answers a POST with 303 to a page of this site, with a flash
// key.
func redirect(w http.ResponseWriter, r *http.Request, to, done string) {
	to = safeBack(to)
	if done != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "done=" + url.QueryEscape(done)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// sameSite refuses a state-changing request that a browser says came from
// another origin: a second line behind the CSRF token.
func sameSite(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// safeBack returns s when it is a path on this site, and /admin/
// otherwise; see localPath.
func safeBack(s string) string {
	if !localPath(s) {
		return "/admin/"
	}
	return s
}

// localPath reports whether s is a path on this site however a browser
// reads it. Browsers drop tabs and newlines inside a URL and read a
// backslash as a slash, so "/<tab>/evil.example" and "/\evil.example" both
// become "//evil.example", another site; s must therefore start with one
// slash followed by something else than a slash or backslash, and hold
// only printable ASCII without backslashes (a path and query the hub
// wrote are percent-encoded, so this refuses none of them), and parse as a
// path with no scheme or host.
func localPath(s string) bool {
	if len(s) == 0 || len(s) > 2048 || s[0] != '/' || (len(s) > 1 && (s[1] == '/' || s[1] == '\\')) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "//")
}
