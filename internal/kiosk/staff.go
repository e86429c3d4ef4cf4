package kiosk

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/codicefiscale"
)

// Staff is the named clerk logged in at the counter (issue 13): a person
// the city enabled for this shop, who logged in with their own CIE and PIN
// or with a password and a TOTP code. The hub holds who they are; the
// kiosk keeps their name for the screens and receipts, and the session
// token only in the hub client's memory, dropped at log-out and idle.
type Staff struct {
	ID    string    `json:"id"` // the hub's clerk id, "cl-0001"
	Name  string    `json:"name"`
	CF    string    `json:"cf,omitempty"`
	Until time.Time `json:"until,omitzero"` // the session's end
}

// clerkSessionEnds are the hub's reasons that end the clerk's session: the
// kiosk goes back to the log-in screen and says why.
var clerkSessionEnds = []string{api.ReasonClerkLoginRequired, api.ReasonClerkSessionExpired, api.ReasonClerkSuspended,
	api.ReasonClerkExpired, api.ReasonClerkNotEnabled, api.ReasonClerkNotTrained}

// LoginCard logs a clerk in with their own CIE and its PIN: the card is
// read over a challenge bound to this device, the PIN verified on the card
// in the IAS secure channel, and the hub, which checks the tap itself and
// that the clerk is enabled for this shop, opens the session. A clerk
// cannot log in while the hub cannot be reached.
func (f *Flow) LoginCard(ctx context.Context, pin string) error {
	done, err := f.begin(StepLogin)
	if err != nil {
		return err
	}
	defer done()
	if p := pinFormat(pin); p != nil {
		return f.fail(p)
	}
	rctx, cancel := f.ctx(ctx)
	defer cancel()
	ev, err := f.deps.Reader.ReadCard(rctx)
	if err != nil {
		return f.fail(cardProblem(err))
	}
	defer wipeEvidence(ev)
	if err := f.deps.Reader.VerifyPIN(rctx, pin); err != nil {
		var pe *PINError
		switch {
		case errors.As(err, &pe) && pe.Blocked:
			return f.fail(problem("cie_pin_blocked", pe.Error(), err))
		case errors.As(err, &pe):
			return f.fail(problem("cie_pin_wrong", pe.Error(), err, pe.TriesLeft))
		}
		return f.fail(cardProblem(err))
	}
	ev.PINProved = true
	return f.openSession(ctx, api.ClerkLogin{CIE: ev})
}

// LoginPassword logs a clerk in at a shop without a card reader: codice
// fiscale, personal password and the code of their authenticator app.
func (f *Flow) LoginPassword(ctx context.Context, cf, password, code string) error {
	done, err := f.begin(StepLogin)
	if err != nil {
		return err
	}
	defer done()
	cf = strings.ToUpper(strings.TrimSpace(cf))
	code = strings.TrimSpace(code)
	if err := codicefiscale.Validate(cf); err != nil {
		return f.fail(cfProblem(cf, err))
	}
	if password == "" || len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return f.fail(problem("clerk_password_format", "type the password and the 6-digit code of the authenticator app", nil))
	}
	return f.openSession(ctx, api.ClerkLogin{CF: cf, Password: password, TOTP: code})
}

func (f *Flow) openSession(ctx context.Context, req api.ClerkLogin) error {
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	s, err := f.deps.Hub.LogInClerk(hctx, req)
	f.noteHub(err)
	if errors.Is(err, ErrOffline) && !rateLimited(err) {
		return f.fail(problem("clerk_offline", "the hub cannot be reached, and a clerk logs in only through it: check the connection and try again", err))
	}
	if err != nil {
		return f.fail(hubProblem(err))
	}
	f.update(func(v *View) {
		v.Staff = s
		v.Step = StepIdentify
	})
	f.deps.Log.Info("clerk logged in", "clerk", s.ID)
	return nil
}

// endSession forgets the logged-in clerk at the hub client (at once) and at
// the hub (in the background: a log-out must not wait for the network).
func (f *Flow) endSession() {
	if f.v.Staff != nil {
		f.deps.Hub.LogOutClerk()
	}
}
