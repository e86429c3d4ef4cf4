package admin

import (
	"encoding/base32"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"rsc.io/qr"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fault/hubfault"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/totp"
)

// auditLimit bounds one page of audit results.
const auditLimit = 500

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var aq audit.Query
	aq.Subject = strings.ToUpper(strings.TrimSpace(q.Get("cf")))
	aq.Actor = strings.TrimSpace(q.Get("actor"))
	var err error
	if s := q.Get("from"); s != "" {
		if aq.From, err = protocol.ParseDay(s); err != nil {
			c.fail(w, r, refused(fault.Invalid, "bad_day", s))
			return
		}
	}
	if s := q.Get("to"); s != "" {
		if aq.To, err = protocol.ParseDay(s); err != nil {
			c.fail(w, r, refused(fault.Invalid, "bad_day", s))
			return
		}
	}
	searched := q.Has("cf") || q.Has("actor") || q.Has("from")
	var entries []audit.Entry
	if searched {
		// Looking up who read a person's data reads that person's data
		// trail: it goes on the record too, before the results are shown.
		if aq.Subject != "" {
			if err := c.reads().Record(r.Context(), audit.Entry{Time: c.now(), Actor: audit.Actor{Kind: audit.Staff, ID: userOf(r)},
				Purpose: "controllo degli accessi ai dati (audit)", Subject: aq.Subject, Data: "registro degli accessi", Channel: "admin"}); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		if entries, err = c.auditLog(r).Search(aq, auditLimit); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	var verified string
	var broken error
	if q.Get("verify") == "1" {
		h, err := c.auditLog(r).Verify()
		if errors.Is(err, audit.ErrBroken) {
			broken = err
		} else if err != nil {
			c.fail(w, r, err)
			return
		} else {
			verified = fmt.Sprintf("%d · %s", h.Seq, h.Hash)
		}
	}
	v := c.newView(r, "nav.audit")
	v.Data = struct {
		Q         map[string]string
		Searched  bool
		Entries   []audit.Entry
		Limited   bool
		Verified  string
		Broken    error
		Anchorset bool
	}{map[string]string{"cf": q.Get("cf"), "actor": q.Get("actor"), "from": q.Get("from"), "to": q.Get("to")},
		searched, entries, len(entries) == auditLimit, verified, broken, false}
	c.render(w, r, http.StatusOK, "audit", v)
}

func (c *Console) staffPage(w http.ResponseWriter, r *http.Request) {
	as, err := c.Staff.Accounts()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := c.newView(r, "nav.staff")
	v.Data = struct {
		Accounts []*staff.Account
		Roles    []staff.Role
	}{as, staff.Roles}
	c.render(w, r, http.StatusOK, "staff", v)
}

func (c *Console) staffAdd(w http.ResponseWriter, r *http.Request) {
	role, err := staff.ParseRole(r.PostFormValue("role"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	a, err := staff.NewAccount(c.Rand, strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("name"), role, r.PostFormValue("password"), c.now(), "staff:"+userOf(r))
	if err == nil {
		err = c.Staff.Add(a, false)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log().Info("admin: staff account added", "user", a.User, "role", a.Role, "by", userOf(r))
	redirect(w, r, "/admin/staff", "staff")
}

type accountData struct {
	Acc    *staff.Account
	Secret string
	URI    string
	QR     template.HTML
}

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request) {
	a, _ := authOf(r)
	v := c.newView(r, "nav.account")
	v.Data = accountData{Acc: a}
	c.render(w, r, http.StatusOK, "account", v)
}

// accountTOTP starts, confirms or turns off the one-time codes of the
// signed-in staff member. The new secret travels in the confirmation form
// (its page is the staff member's own, behind the session and CSRF token)
// and is stored only once a code from it has been typed back.
//
// Storing a secret or removing one decides how the account signs in from
// then on, so a session alone is not enough: confirming needs the current
// password, and, when the account already has codes, a current code from
// the old secret too. Otherwise whoever borrowed a signed-in browser could
// put the account's codes on their own phone, or turn them off. The check
// counts against the log-in limits like a log-in (staff.Service.Reauth).
func (c *Console) accountTOTP(w http.ResponseWriter, r *http.Request) {
	a, _ := authOf(r)
	v := c.newView(r, "nav.account")
	setup := func(secret []byte) accountData {
		d := accountData{Acc: a, Secret: totp.Text(secret), URI: staff.TOTPURI("Sportello "+c.City, a.User, secret)}
		d.QR = qrSVG(d.URI)
		return d
	}
	attempt := staff.Attempt{User: a.User, Password: r.PostFormValue("password"), Code: r.PostFormValue("current"), From: clientAddr(r)}
	switch r.PostFormValue("action") {
	case "start":
		secret, err := totp.NewSecret(c.Rand)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		v.Data = setup(secret)
		c.render(w, r, http.StatusOK, "account", v)
	case "confirm":
		secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(r.PostFormValue("secret"))
		if err != nil || len(secret) < 10 {
			c.fail(w, r, refused(fault.Invalid, "totp_secret_damaged"))
			return
		}
		step, ok := staff.VerifyTOTP(secret, r.PostFormValue("code"), c.now(), 0)
		if !ok {
			v.Data = setup(secret)
			c.renderRefused(w, r, "account", v, refused(fault.Invalid, "totp_code_mismatch"))
			return
		}
		err = c.Staff.Reauth(r.Context(), attempt, func(acc *staff.Account) error {
			acc.TOTPSecret, acc.LastTOTPStep = secret, step
			return nil
		})
		if err != nil {
			v.Data = setup(secret)
			c.reauthRefused(w, r, v, err)
			return
		}
		c.log().Info("admin: one-time codes set", "user", a.User, "from", clientAddr(r))
		redirect(w, r, "/admin/account", "totp_on")
	case "off":
		err := c.Staff.Reauth(r.Context(), attempt, func(acc *staff.Account) error {
			acc.TOTPSecret, acc.LastTOTPStep = nil, 0
			return nil
		})
		if err != nil {
			v.Data = accountData{Acc: a}
			c.reauthRefused(w, r, v, err)
			return
		}
		c.log().Info("admin: one-time codes turned off", "user", a.User, "from", clientAddr(r))
		redirect(w, r, "/admin/account", "totp_off")
	default:
		c.fail(w, r, refused(fault.Malformed, "unknown_action"))
	}
}

// reauthRefused shows the account page again with why the password (or
// code) was not accepted.
func (c *Console) reauthRefused(w http.ResponseWriter, r *http.Request, v *view, err error) {
	why := c.loginRefusal(w, err)
	if why == nil {
		c.fail(w, r, err)
		return
	}
	_, reason := hubfault.Of(why)
	if reason == "login_failed" || reason == "login_code_required" {
		// Signed in already: the password or code is wrong, and who
		// is asking is known.
		why, reason = refused(fault.Forbidden, "reauth_failed"), "reauth_failed"
	}
	c.log().Info("admin: password confirmation refused", "user", userOf(r), "from", clientAddr(r), "reason", reason)
	c.renderRefused(w, r, "account", v, why)
}

// qrSVG draws a QR code as SVG squares, for authenticator apps to scan.
func qrSVG(text string) template.HTML {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return ""
	}
	n := code.Size
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="qr" viewBox="-4 -4 %d %d" role="img" aria-label="QR" xmlns="http://www.w3.org/2000/svg"><rect x="-4" y="-4" width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n+8, n+8, n+8, n+8)
	for y := range n {
		for x := range n {
			if code.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String())
}
