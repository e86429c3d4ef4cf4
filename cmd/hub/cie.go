package main

import (
	"crypto/x509"
	"log/slog"
	"time"

	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/identify"
)

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
