package hubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

// Named clerks (issue 13): a shop's device opens a session for the person
// at its counter with that person's own CIE and PIN, or a password and a
// TOTP code; each later request names the session in the Sportello-Clerk
// header, covered by the device's signature. On the counter channel, a
// look-up or an issuance without a clerk is refused (Server.RequireClerk).

// MaxClerkTapAge is how far a log-in tap's time may be from the hub's: the
// clerk taps and types the PIN just before, and a tap older than this is
// someone else's replay.
const MaxClerkTapAge = 5 * time.Minute

func (s *Server) clerkRoutes(mux *http.ServeMux) {
	// Log-in reads no session: a kiosk still holding an ended one must be
	// able to open the next.
	mux.Handle("POST /api/v1/clerk-sessions", s.signedOnly(s.limited(limitClerkLogIn, http.HandlerFunc(s.clerkLogIn))))
	mux.Handle("DELETE /api/v1/clerk-sessions/current", s.signed(http.HandlerFunc(s.clerkLogOut)))
}

type clerkKey struct{}

// ClerkOf is the clerk logged in at the device that signed the request
// behind ctx, once a signed route has resolved its Sportello-Clerk header.
// Rate limits and the audit read it from here.
func ClerkOf(ctx context.Context) (*operators.Clerk, bool) {
	c, ok := ctx.Value(clerkKey{}).(*operators.Clerk)
	return c, ok
}

// withClerk resolves the request's Sportello-Clerk header, when it has one,
// and refuses the request when the session does not hold: unknown or ended,
// opened at another device, or its clerk suspended, expired or no longer
// enabled for the shop, from the very request after the change.
func (s *Server) withClerk(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get(httpsig.ClerkField)
		if token == "" {
			next.ServeHTTP(w, r)
			return
		}
		keyID, _ := httpsig.KeyID(r.Context())
		c, err := s.resolveClerk(keyID, token)
		if err != nil {
			s.Log.Info("clerk session refused", "key_id", keyID, "err", err)
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clerkKey{}, c)))
	})
}

func (s *Server) resolveClerk(keyID, token string) (*operators.Clerk, error) {
	if s.Clerks == nil {
		return nil, fmt.Errorf("%w: this hub keeps no clerks", operators.ErrSessionUnknown)
	}
	now := s.Now()
	sess, err := s.Clerks.ClerkSession(operators.HashSessionToken(token))
	if err != nil {
		return nil, err
	}
	if err := sess.Check(keyID, now); err != nil {
		return nil, err
	}
	c, err := s.Clerks.Clerk(sess.ClerkID)
	if errors.Is(err, operators.ErrNotFound) {
		return nil, fmt.Errorf("%w: the clerk is gone", operators.ErrSessionUnknown)
	}
	if err != nil {
		return nil, err
	}
	if err := c.MayWork(sess.OperatorID, now); err != nil {
		return nil, err
	}
	// A session opened before the clerk's last change (a reinstatement)
	// does not come back to life with it.
	if n := len(c.History); n > 0 && c.History[n-1].At.After(sess.Created) {
		return nil, fmt.Errorf("%w: the clerk's standing changed since this log-in", operators.ErrSessionUnknown)
	}
	return c, nil
}

// counterClerk is the clerk a request on channel is made by: none on
// self-service; on the counter, the one logged in, if any (RequireClerk
// makes one necessary).
func (s *Server) counterClerk(r *http.Request, channel string) (audit.Clerk, error) {
	if channel == api.ChannelSelfService {
		return audit.Clerk{}, nil
	}
	if err := s.attended(r); err != nil {
		return audit.Clerk{}, err
	}
	c, ok := ClerkOf(r.Context())
	if !ok {
		if !s.RequireClerk {
			return audit.Clerk{}, nil
		}
		return audit.Clerk{}, fault.New(fault.Unauthenticated, api.ReasonClerkLoginRequired, "a clerk must log in at this device with their own CIE and PIN (or password and code) before issuing or looking anyone up")
	}
	return audit.Clerk{ID: c.ID, Name: c.Name}, nil
}

// maxClerkLoginBody bounds a log-in: a CIE's key and SOD, a few kB.
const maxClerkLoginBody = 32 << 10

func (s *Server) clerkLogIn(w http.ResponseWriter, r *http.Request) {
	keyID, err := signedKey(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Clerks == nil || s.Operators == nil {
		s.fail(w, r, fault.New(fault.NotFound, "not_found", "this hub keeps no clerks"))
		return
	}
	_, op, err := s.Operators.Authorise(keyID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req api.ClerkLogin
	if err := decodeBody(r, maxClerkLoginBody, &req, "the log-in is not the expected JSON {cie} or {cf, password, totp}"); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.Now()
	var c *operators.Clerk
	method := operators.LoginCIE
	switch {
	case req.CIE != nil && req.CF == "" && req.Password == "" && req.TOTP == "":
		c, err = s.clerkByTap(r.Context(), keyID, op.ID, req.CIE, now)
	case req.CIE == nil && req.CF != "":
		method = operators.LoginPassword
		c, err = s.clerkByPassword(op.ID, req, now)
	default:
		err = fault.New(fault.Malformed, "bad_request", "log in with either the clerk's CIE or codice fiscale, password and code")
	}
	if err == nil {
		err = c.MayWork(op.ID, now)
	}
	if err != nil {
		s.Log.Info("clerk log-in refused", "key_id", keyID, "operator", op.ID, "method", method, "err", err)
		s.fail(w, r, err)
		return
	}
	token, sess, err := operators.NewClerkSession(nil, c, keyID, method, now)
	if err == nil {
		err = s.Clerks.StartClerkSession(sess)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("clerk logged in", "key_id", keyID, "operator", op.ID, "clerk", c.ID, "method", method, "until", sess.Expires)
	writeJSON(w, http.StatusCreated, api.ClerkSession{Token: token, ClerkID: c.ID, Name: c.Name, CF: c.CF, Expires: sess.Expires})
}

// clerkByTap checks a CIE tapped at device keyID (the chip's answer, the
// issuer's signature against the hub's CSCAs, the tap's age, the PIN) and
// finds the clerk of operator opID who holds it: by the NIS on the clerk's
// record, else through the registry, whose CIE must be valid today.
func (s *Server) clerkByTap(ctx context.Context, keyID, opID string, ev *api.RequesterEvidence, now time.Time) (*operators.Clerk, error) {
	if ev.Method != api.EvidenceCIE {
		return nil, fault.New(fault.Malformed, "bad_request", fmt.Sprintf("a clerk logs in with a CIE tap, method %q, not %q", api.EvidenceCIE, ev.Method))
	}
	if !ev.PINProved {
		return nil, fault.New(fault.Forbidden, api.ReasonClerkPINNotVerified, "the card's PIN was not verified: a clerk logs in with their CIE and its PIN")
	}
	if d := now.Sub(ev.TappedAt); d > MaxClerkTapAge || d < -MaxClerkTapAge {
		return nil, fault.New(fault.Forbidden, api.ReasonClerkTapStale, fmt.Sprintf("the tap was made at %s, too far from the hub's time %s: tap the card again", ev.TappedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	res := cie.VerifyTap(cie.Tap{NIS: ev.NIS, Kpub: ev.Kpub, SOD: ev.SOD, Nonce: ev.TapNonce, TappedAt: ev.TappedAt, Response: ev.Response},
		keyID, cie.Options{CSCAs: s.CSCAs, Now: now})
	if !res.Verified() {
		detail := "the chip did not prove itself genuine"
		if len(res.Problems) > 0 {
			detail = res.Problems[0].Detail
		}
		return nil, fault.New(fault.Forbidden, api.ReasonClerkCardNotGenuine, "the card is not a genuine CIE tapped at this device: "+detail)
	}
	if c, err := s.Clerks.ClerkByNIS(opID, res.NIS); err == nil {
		return c, nil
	} else if !errors.Is(err, operators.ErrNotFound) {
		return nil, err
	}
	var cf string
	err := s.Store.View(ctx, func(rd registry.Reader) error {
		p, err := rd.PersonByNIS(res.NIS)
		if err != nil {
			return err
		}
		if !holdsValid(p, registry.DateOf(now.In(operators.Rome)), func(d registry.Document) bool { return d.NIS == res.NIS }) {
			return fault.New(fault.Forbidden, api.ReasonClerkCardNotValid, "this CIE is expired or revoked: log in with a valid one")
		}
		cf = p.CF
		return nil
	})
	if errors.Is(err, registry.ErrNotFound) {
		return nil, fmt.Errorf("%w: no clerk of this shop holds this CIE", operators.ErrClerkNotEnabled)
	}
	if err != nil {
		return nil, err
	}
	return s.clerkOfShop(opID, cf)
}

func (s *Server) clerkOfShop(opID, cf string) (*operators.Clerk, error) {
	cs, err := s.Clerks.ClerksByCF(cf)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.OperatorID == opID {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: %s is not a clerk of this shop", operators.ErrClerkNotEnabled, cf)
}

func (s *Server) clerkByPassword(opID string, req api.ClerkLogin, now time.Time) (*operators.Clerk, error) {
	cf := strings.ToUpper(strings.TrimSpace(req.CF))
	if err := codicefiscale.Validate(cf); err != nil {
		return nil, fault.New(fault.Malformed, certificate.ReasonInvalidCF, fmt.Sprintf("codice fiscale %q is not valid: %v", cf, err))
	}
	c, err := s.clerkOfShop(opID, cf)
	if err != nil {
		return nil, err
	}
	step, err := c.CheckPassword(req.Password, req.TOTP, now)
	if err != nil {
		return nil, err
	}
	// Standing first, so a suspended clerk's right code is not spent.
	if err := c.MayWork(opID, now); err != nil {
		return nil, err
	}
	if err := s.Clerks.UseTOTPStep(c.ID, step); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Server) clerkLogOut(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get(httpsig.ClerkField)
	if token == "" || s.Clerks == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := s.Clerks.EndClerkSession(operators.HashSessionToken(token)); err != nil {
		s.fail(w, r, err)
		return
	}
	if c, ok := ClerkOf(r.Context()); ok {
		s.Log.Info("clerk logged out", "clerk", c.ID)
	}
	w.WriteHeader(http.StatusNoContent)
}

// attended refuses the counter channel to a device of the city's
// self-service kiosk operator (operators.SelfService): nobody stands at
// an unattended totem to check a document or take money, so its requests
// are self-service — identified by CIE and PIN and paid before they are
// issued (issue 15 item 4) — whatever channel the request names. Without
// this a totem naming "counter" would be issued an original unpaid
// wherever no clerk log-in is required.
func (s *Server) attended(r *http.Request) error {
	if s.Operators == nil {
		return nil
	}
	keyID, err := signedKey(r)
	if err != nil {
		return err
	}
	_, o, err := s.Operators.Authorise(keyID)
	if err != nil {
		return err
	}
	if o.Category == operators.SelfService {
		return fault.New(fault.Malformed, certificate.ReasonInvalidChannel, o.DisplayName()+" is an unattended self-service kiosk: its requests are on the self_service channel, not counter")
	}
	return nil
}
