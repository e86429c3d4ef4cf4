package hubapi

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/keyhandover"
	"github.com/sportello/sportello/internal/operators"
)

// deviceRoutes registers enrolment, the directory, the API description and
// the metrics, and backs DeviceOperator with the operator store.
func (s *Server) deviceRoutes(mux *http.ServeMux) {
	if s.DeviceOperator == nil && s.Operators != nil {
		s.DeviceOperator = s.storeOperator
	}
	mux.HandleFunc("POST /api/v1/devices", s.enrol)
	mux.Handle("GET /api/v1/devices/self", s.signed(http.HandlerFunc(s.deviceSelf)))
	mux.Handle("GET /api/v1/directory", s.signed(http.HandlerFunc(s.directory)))
	mux.Handle("GET /api/v1/directory.geojson", s.signed(http.HandlerFunc(s.directoryGeoJSON)))
	mux.HandleFunc("GET /openapi.json", s.openAPI)
	mux.HandleFunc("GET /metrics", s.metrics)
}

// signAPIResponses signs every /api/v1/ answer, refusals included, with the
// hub's key so a kiosk can trust what it reads; other paths (pages, JWKS,
// health) go out as they are.
func (s *Server) signAPIResponses(next http.Handler) http.Handler {
	if s.HubSigner == nil {
		return next
	}
	signed := httpsig.ResponseSigner(s.HubSigner, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/") {
			if s.KeyHandover != "" {
				w.Header().Set(keyhandover.Header, s.KeyHandover)
			}
			signed.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxEnrolBody bounds an enrolment request: a code, a key and a name.
const maxEnrolBody = 4 << 10

func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	if s.Operators == nil || s.HubSigner == nil {
		s.fail(w, r, errors.New("enrolment needs the operator store and the hub's signing key"))
		return
	}
	var req api.EnrolRequest
	if err := decodeBody(r, maxEnrolBody, &req, "the enrolment request is not the expected JSON {code, public_key, name}"); err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.TrimSpace(req.Code) == "" {
		s.fail(w, r, fault.New(fault.Malformed, "bad_request", "the enrolment request has no code; city staff give one with hub operator enrol-code"))
		return
	}
	pub, err := base64.StdEncoding.DecodeString(req.PublicKey)
	if err != nil {
		pub, err = base64.RawURLEncoding.DecodeString(req.PublicKey)
	}
	if err != nil || len(pub) != ed25519.PublicKeySize {
		s.fail(w, r, fault.New(fault.Malformed, "bad_public_key", "public_key must be the base64 of a raw 32-byte Ed25519 public key"))
		return
	}
	// Checked before the code is redeemed, so a kiosk whose key is refused
	// can make a new key and enrol with the same code.
	if err := httpsig.CheckPublicKey(pub); err != nil {
		s.Log.Info("enrolment refused", "err", err, "remote", r.RemoteAddr)
		s.fail(w, r, fault.New(fault.Malformed, string(httpsig.ReasonWeakPublicKey), err.Error()+"; make a new key with the kiosk's enrol command"))
		return
	}
	d, err := s.Operators.Enrol(req.Code, pub, req.Name)
	if err != nil {
		s.Log.Info("enrolment refused", "err", err, "remote", r.RemoteAddr)
		s.fail(w, r, enrolError(err))
		return
	}
	s.Log.Info("device enrolled", "key_id", d.KeyID, "operator", d.OperatorID, "name", d.Name)
	hubPub := s.HubSigner.Key.Public().(ed25519.PublicKey)
	writeJSON(w, http.StatusCreated, api.Enrolment{
		KeyID: d.KeyID, OperatorID: d.OperatorID,
		HubKey: base64.StdEncoding.EncodeToString(hubPub), HubKeyID: s.HubSigner.KeyID,
	})
}

// enrolError is what an enrolment's errors answer besides the table's
// (hubfault): an operator that may not enrol devices is refused as outside
// its agreement, and its invalid data is a malformed enrolment.
func enrolError(err error) error {
	switch {
	case errors.Is(err, operators.ErrKeyInUse):
		return fault.Wrap(fault.Conflict, "key_in_use", err)
	case errors.Is(err, operators.ErrTransition):
		return fault.Wrap(fault.Forbidden, "operator_not_allowed", err)
	case errors.Is(err, operators.ErrInvalid):
		return fault.Wrap(fault.Malformed, "bad_request", err)
	}
	return err
}

// storeOperator is DeviceOperator backed by the operator store: the
// device's operator must be active with an agreement in force today.
func (s *Server) storeOperator(ctx context.Context, keyID string) (issuance.Operator, error) {
	_, o, err := s.Operators.Authorise(keyID)
	if err != nil {
		return issuance.Operator{}, err
	}
	s.touch(keyID)
	if err := o.MayIssue(s.Now()); err != nil {
		return issuance.Operator{}, &certificate.Refusal{Reason: certificate.ReasonOperatorNotAllowed, Message: "this device may not issue certificates: " + err.Error() + "."}
	}
	op := issuance.Operator{ID: o.ID, Name: o.DisplayName()}
	if a := o.Agreement; a != nil {
		op.ServiceCents = int64(a.FeeCents)
		op.Widening = a.Widening
		op.Allowed = make(map[certificate.Type]bool, len(a.Types))
		for _, t := range a.Types {
			op.Allowed[t] = true
		}
	}
	return op, nil
}

// touch records the device's last contact; a failure only costs freshness.
func (s *Server) touch(keyID string) {
	if err := s.Operators.Touch(keyID); err != nil {
		s.Log.Warn("cannot record device contact", "key_id", keyID, "err", err)
	}
}

func (s *Server) deviceSelf(w http.ResponseWriter, r *http.Request) {
	keyID, _ := httpsig.KeyID(r.Context())
	if s.Operators == nil {
		s.fail(w, r, errors.New("no operator store is configured"))
		return
	}
	d, o, err := s.Operators.Authorise(keyID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.touch(keyID)
	v := api.Device{KeyID: d.KeyID, Name: d.Name, Status: string(d.Status), OperatorID: o.ID,
		OperatorName: o.DisplayName(), OperatorStatus: string(o.Status), MayIssue: true, Types: []string{}}
	v.Shop, v.Channel = deviceShop(o)
	if a := o.Agreement; a != nil {
		v.FeeCents = a.FeeCents
		for _, t := range a.Types {
			v.Types = append(v.Types, string(t))
		}
	}
	if err := o.MayIssue(s.Now()); err != nil {
		v.MayIssue, v.Why = false, err.Error()
	}
	// The city's offline limits travel with the agreement, as they stand
	// now: the kiosk keeps the copy for when it cannot ask.
	offline := s.Operators.CurrentPolicy().Offline.Effective()
	v.Offline = &offline
	// So does the fee policy: a kiosk previewing under its own defaults
	// would show a total the hub then does not charge.
	if s.Desk != nil {
		st, err := s.Desk.Settings()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.FeePolicy = feePolicy(st.Policy)
	}
	writeJSON(w, http.StatusOK, v)
}

// deviceShop is the operator's registered identity and the channel its
// devices issue on: a self-service kiosk operator's devices are
// self-service, every shop's are its counter.
func deviceShop(o *operators.Operator) (*api.DeviceShop, string) {
	channel := api.ChannelCounter
	if o.Category == operators.SelfService {
		channel = api.ChannelSelfService
	}
	return &api.DeviceShop{Name: o.DisplayName(), LegalName: o.LegalName, PartitaIVA: o.PartitaIVA, Category: string(o.Category),
		Address: o.Address.String(), Lat: o.Address.Lat, Lon: o.Address.Lon}, channel
}

// feePolicy is pol as a kiosk receives it: the diritti of the channels a
// kiosk issues on.
func feePolicy(pol certificate.Policy) *api.FeePolicy {
	return &api.FeePolicy{ServiceCapCents: pol.ServiceCapCents, BirthMarriageExempt: pol.LawExemption, BolloAuthorisation: pol.BolloAuthorisation,
		Diritti: map[string]fees.Rates{
			api.ChannelCounter:     pol.DirittiOn(certificate.Counter),
			api.ChannelSelfService: pol.DirittiOn(certificate.SelfService),
		}}
}
