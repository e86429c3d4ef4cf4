package admin

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fault/hubfault"
	"github.com/sportello/sportello/internal/frontdoor"
)

type ctxKey struct{}

type authInfo struct {
	acc   *staff.Account
	sess  *staff.Session
	token string
}

func authOf(r *http.Request) (*staff.Account, *staff.Session) {
	if a, ok := r.Context().Value(ctxKey{}).(*authInfo); ok {
		return a.acc, a.sess
	}
	return nil, nil
}

func userOf(r *http.Request) string {
	if a, _ := authOf(r); a != nil {
		return a.User
	}
	return ""
}

// require lets a signed-in staff member whose role has perm (any role when
// perm is empty) through to h; POSTs must carry the session's CSRF token.
func (c *Console) require(perm staff.Permission, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err != nil {
			c.toLogin(w, r)
			return
		}
		sess, acc, err := c.Staff.Session(ck.Value)
		if errors.Is(err, staff.ErrNoSession) {
			clearCookie(w, r, sessionCookie, "/admin/")
			c.toLogin(w, r)
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, &authInfo{acc: acc, sess: sess, token: ck.Value}))
		if r.Method == http.MethodPost {
			parse := r.ParseForm
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				// The accept form of a historical certificate request
				// uploads the office's prepared PDF (bounded by limitForms).
				parse = func() error { return r.ParseMultipartForm(maxFormBytes) }
			}
			if err := parse(); err != nil {
				c.formFailed(w, r, err)
				return
			}
			if !sameSite(r) || !tokensEqual(r.PostFormValue("csrf"), sess.CSRF) {
				c.fail(w, r, refused(fault.Forbidden, "csrf_failed"))
				return
			}
		}
		if perm != "" && !acc.Role.Can(perm) {
			c.fail(w, r, refused(fault.Forbidden, "role_forbidden"))
			return
		}
		h(w, r)
	})
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		c.fail(w, r, refused(fault.Unauthenticated, "session_expired"))
		return
	}
	http.Redirect(w, r, "/admin/login?next="+urlQuery(r.URL.RequestURI()), http.StatusSeeOther)
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: frontdoor.HTTPS(r), // behind a trusted TLS proxy too
	})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	setCookie(w, r, name, "", path, -1)
}

type loginView struct {
	Token, User, Next string
	NeedCode          bool
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.showLogin(w, r, loginView{User: r.URL.Query().Get("user"), Next: r.URL.Query().Get("next")}, nil)
}

// showLogin renders the form with a fresh log-in CSRF token, kept in a
// cookie and a hidden field: a forged cross-site log-in carries neither.
func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, lv loginView, refusal error) {
	tok, err := staff.RandomToken(c.Rand)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	setCookie(w, r, loginCookie, tok, "/admin/", 600)
	lv.Token = tok
	v := c.newView(r, "login.title")
	v.Data = lv
	c.renderOr(w, r, "login", v, refusal)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.formFailed(w, r, err)
		return
	}
	lv := loginView{User: strings.TrimSpace(r.PostFormValue("user")), Next: r.PostFormValue("next")}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameSite(r) || !tokensEqual(ck.Value, r.PostFormValue("csrf")) {
		c.showLogin(w, r, lv, refused(fault.Forbidden, "login_expired"))
		return
	}
	token, _, _, err := c.Staff.Login(r.Context(), staff.Attempt{User: lv.User, Password: r.PostFormValue("password"), Code: r.PostFormValue("code"), From: clientAddr(r)})
	if err != nil {
		// One answer for a wrong password, an unknown user name and a
		// disabled account: the page does not tell which names exist.
		why := c.loginRefusal(w, err)
		if why == nil {
			c.fail(w, r, err)
			return
		}
		_, reason := hubfault.Of(why)
		c.log().Info("admin: failed log-in", "user", lv.User, "from", clientAddr(r), "reason", reason)
		lv.NeedCode = reason == "login_code_required"
		c.showLogin(w, r, lv, why)
		return
	}
	clearCookie(w, r, loginCookie, "/admin/")
	setCookie(w, r, sessionCookie, token, "/admin/", int(staff.AbsoluteTimeout/time.Second))
	c.log().Info("admin: log-in", "user", lv.User)
	next := safeBack(lv.Next)
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "/admin/login") {
		next = "/admin/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// loginRefusal is the console's refusal of a log-in or password
// confirmation that err refused, and sets Retry-After when waiting helps;
// nil means err is no refusal but a failure of the hub.
func (c *Console) loginRefusal(w http.ResponseWriter, err error) error {
	var locked *staff.LockedError
	switch {
	case errors.As(err, &locked):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(locked.Until.Sub(c.now()).Seconds())))))
		return refused(fault.TooMany, "login_locked", locked.Until.In(romeZone()).Format("15:04"))
	case errors.Is(err, staff.ErrBusy):
		// The hub's own load, not this client's doing: 503, not 429.
		w.Header().Set("Retry-After", "1")
		return refused(fault.Unavailable, "login_busy")
	case errors.Is(err, staff.ErrTOTPMissing):
		return refused(fault.Unauthenticated, "login_code_required")
	case errors.Is(err, staff.ErrBadLogin), errors.Is(err, staff.ErrDisabled):
		return refused(fault.Unauthenticated, "login_failed")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return refused(fault.Unavailable, "login_busy")
	}
	return nil
}

// clientAddr is frontdoor.ClientAddr, the zero Addr when it cannot be
// read.
func clientAddr(r *http.Request) netip.Addr {
	a, _ := frontdoor.ClientAddr(r)
	return a
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.Staff.Logout(ck.Value); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	clearCookie(w, r, sessionCookie, "/admin/")
	http.Redirect(w, r, "/admin/login?done=logout", http.StatusSeeOther)
}

// setLang switches the language for the console and the public pages.
func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("to")
	if !validLang(lang) {
		lang = languages[0]
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: frontdoor.HTTPS(r)})
	http.Redirect(w, r, safeBack(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// formFailed answers a form that could not be parsed: 413 when it was
// larger than maxFormBytes, 400 otherwise.
func (c *Console) formFailed(w http.ResponseWriter, r *http.Request, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		c.fail(w, r, refused(fault.TooLarge, "form_too_large"))
		return
	}
	c.fail(w, r, refused(fault.Malformed, "form_unreadable"))
}
