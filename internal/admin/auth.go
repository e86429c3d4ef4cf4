package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
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
			c.fail(w, r, http.StatusInternalServerError, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, &authInfo{acc: acc, sess: sess, token: ck.Value}))
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				c.fail(w, r, http.StatusBadRequest, badInput("the form could not be read"))
				return
			}
			if !sameSite(r) || !tokensEqual(r.PostFormValue("csrf"), sess.CSRF) {
				c.fail(w, r, http.StatusForbidden, badInput(tr(langOf(r), "error.csrf")))
				return
			}
		}
		if perm != "" && !acc.Role.Can(perm) {
			c.fail(w, r, http.StatusForbidden, badInput(tr(langOf(r), "error.forbidden")))
			return
		}
		h(w, r)
	})
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		c.fail(w, r, http.StatusUnauthorized, badInput(tr(langOf(r), "error.session")))
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
	c.showLogin(w, r, http.StatusOK, loginView{User: r.URL.Query().Get("user"), Next: r.URL.Query().Get("next")}, "")
}

// showLogin renders the form with a fresh log-in CSRF token, kept in a
// cookie and a hidden field: a forged cross-site log-in carries neither.
func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, lv loginView, msg string) {
	tok, err := staff.RandomToken(c.Rand)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	setCookie(w, r, loginCookie, tok, "/admin/", 600)
	lv.Token = tok
	v := c.newView(r, "login.title")
	v.Error = msg
	v.Data = lv
	c.render(w, r, status, "login", v)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, badInput("the form could not be read"))
		return
	}
	lv := loginView{User: strings.TrimSpace(r.PostFormValue("user")), Next: r.PostFormValue("next")}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameSite(r) || !tokensEqual(ck.Value, r.PostFormValue("csrf")) {
		c.showLogin(w, r, http.StatusForbidden, lv, tr(lang, "login.expired"))
		return
	}
	token, _, _, err := c.Staff.Login(lv.User, r.PostFormValue("password"), r.PostFormValue("code"))
	var locked *staff.LockedError
	switch {
	case errors.As(err, &locked):
		c.log().Warn("admin: account locked", "user", lv.User)
		c.showLogin(w, r, http.StatusTooManyRequests, lv, trf(lang, "login.locked", locked.Until.In(romeZone()).Format("15:04")))
		return
	case errors.Is(err, staff.ErrTOTPMissing):
		lv.NeedCode = true
		c.showLogin(w, r, http.StatusUnauthorized, lv, tr(lang, "login.needcode"))
		return
	case errors.Is(err, staff.ErrBadLogin), errors.Is(err, staff.ErrDisabled):
		c.log().Info("admin: failed log-in", "user", lv.User)
		c.showLogin(w, r, http.StatusUnauthorized, lv, tr(lang, "login.failed"))
		return
	case err != nil:
		c.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	clearCookie(w, r, loginCookie, "/admin/")
	setCookie(w, r, sessionCookie, token, "/admin/", int(staff.AbsoluteTimeout/time.Second))
	c.log().Info("admin: log-in", "user", lv.User)
	next := "/admin/"
	if lv.Next != "" && strings.HasPrefix(lv.Next, "/admin/") && !strings.HasPrefix(lv.Next, "/admin/login") {
		next = safeBack(lv.Next)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.Staff.Logout(ck.Value); err != nil {
			c.fail(w, r, http.StatusInternalServerError, err)
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
	back := r.URL.Query().Get("back")
	if !strings.HasPrefix(back, "/directory") {
		back = safeBack(back)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
