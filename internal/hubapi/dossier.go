package hubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sportello/sportello/internal/accesslog"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/dossier"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/places"
)

// Audit words of a dossier's look-up.
const (
	dossierPurpose = "consultazione del proprio fascicolo del cittadino"
	dossierData    = "fascicolo: dati anagrafici, famiglia, documenti, certificati, pratiche, appuntamenti, deleghe, accessi"
)

func (s *Server) dossierRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/dossier", s.signed(s.limited(limitCitizen, http.HandlerFunc(s.dossierJSON))))
	mux.Handle("POST /api/v1/dossier/pdf", s.signed(s.limited(limitCitizen, http.HandlerFunc(s.dossierPDF))))
}

func (s *Server) dossierJSON(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dossier(w, r)
	if ok {
		writeJSON(w, http.StatusOK, d)
	}
}

func (s *Server) dossierPDF(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dossier(w, r)
	if !ok {
		return
	}
	pdf, err := dossier.Render(d, s.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="fascicolo-`+d.Person.CF+`.pdf"`)
	w.WriteHeader(http.StatusOK)
	w.Write(pdf)
}

// dossier identifies the citizen, records the look-up and assembles their
// dossier; ok false: the answer is written.
func (s *Server) dossier(w http.ResponseWriter, r *http.Request) (*api.Dossier, bool) {
	var req api.DossierQuery
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel}"); err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	c, ok := s.identifyCitizen(w, r, req.Requester, req.Channel, dossierPurpose, dossierData)
	if !ok {
		return nil, false
	}
	rec, err := s.auditRecorder()
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	// The look-up is a read like any other: recorded before it is served,
	// so the dossier's own access log shows it.
	if err := rec.Record(r.Context(), audit.Entry{Actor: c.actor, Clerk: c.clerk, Channel: c.channel, Subject: c.who.CF,
		Data: dossierData, Purpose: dossierPurpose}); err != nil {
		s.fail(w, r, fmt.Errorf("cannot record the look-up in the audit log: %w", err))
		return nil, false
	}
	src := dossier.Sources{Stores: s.stores()}
	if s.Desk != nil {
		src.Places = s.Desk.Places()
	}
	if src.Places == nil {
		src.Places = places.Default()
	}
	if as, ok := s.auditSource(r.Context(), rec); ok {
		names := s.placeNames()
		src.AccessLog = func(_ context.Context, cf string, now time.Time, limit int) ([]api.AccessLine, int, error) {
			page, err := accesslog.Query(as, names, s.protocols, cf, now, 1, limit)
			if err != nil {
				return nil, 0, err
			}
			lines := make([]api.AccessLine, len(page.Lines))
			for i, l := range page.Lines {
				lines[i] = api.AccessLine{Time: l.Time, Kind: string(l.Kind), Place: l.Place, Clerk: l.Clerk, Channel: l.Channel,
					What: l.What, Why: l.Why, Reference: l.Reference}
			}
			return lines, page.Total, nil
		}
	}
	d, err := dossier.Assemble(r.Context(), src, c.who.CF, s.Now())
	if errors.Is(err, dossier.ErrNoPerson) {
		err = fault.New(fault.NotFound, "not_found", "the citizen identified is not in the registry")
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return d, true
}
