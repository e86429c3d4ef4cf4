package hub

import (
	"crypto/x509"
	"log/slog"
	"time"

	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// DeskSettings reads the city's settings for each issuance of desk, so
// hub city set holds from the next certificate.
func DeskSettings(cs *city.Settings, desk *issuance.Service) func() (issuance.Settings, error) {
	return func() (issuance.Settings, error) {
		cfg, err := cs.Current()
		if err != nil {
			return issuance.Settings{}, err
		}
		iss, err := cfg.Issuer(desk.Places())
		if err != nil {
			return issuance.Settings{}, err
		}
		return issuance.Settings{Issuer: iss, PublicURL: cfg.PublicURL, Policy: cfg.CertificatePolicy(),
			Register: protocol.Register{IPA: cfg.IPACode, AOO: cfg.AOOCode, Code: cfg.RegisterCode}}, nil
	}
}

// PlaceTable is the embedded default table overlaid with the places the
// registry imported (r may be nil: no registry yet).
func PlaceTable(r registry.Reader) (*places.Table, error) {
	t := places.Default().Clone()
	if r == nil {
		return t, nil
	}
	ps, err := r.Places()
	if err != nil {
		return nil, err
	}
	t.Add(ps...)
	return t, nil
}

// NewOperators is the operators' service on st, reading the city's policy
// from the settings as each transaction sees them (a cap lowered meanwhile
// cannot let an agreement above it through), defaults standing for what
// the settings leave unset.
func NewOperators(st store.Store, defaults city.Config, now func() time.Time) *operators.Service {
	return operators.NewService(st, store.Tx.Operators, func(tx store.Tx) (operators.Policy, error) {
		cfg, err := tx.City().Get()
		return cfg.Effective(defaults).Policy(), err
	}, now, hubPolicy())
}

// requesterVerifier checks requesters' evidence with cscas; a tap may be as
// old as the city's offline age limit, read at each request, so a request
// that waited in a kiosk's outbox within the limit still identifies.
func requesterVerifier(cscas []*x509.Certificate, api *hubapi.Server, log *slog.Logger) *identify.Verifier {
	if len(cscas) == 0 {
		log.Warn("no CSCA configured: CIE taps cannot identify anyone (give hub serve --csca FILE); only codice fiscale with an identity document identifies requesters")
	}
	return &identify.Verifier{CSCAs: cscas, MaxAge: func() time.Duration {
		if api.Operators == nil {
			return 0
		}
		return api.Operators.CurrentPolicy().Offline.Effective().MaxAge()
	}}
}
