package hubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/accesslog"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// RequesterIdentifier returns the living registry person the evidence a
// signed request carries identifies (selfService: only a CIE whose PIN the
// card accepted will do). The hub's verifier of requester evidence is wired
// here; an error it returns that is not the registry's is a failed
// identification.
type RequesterIdentifier func(r *http.Request, ev api.RequesterEvidence, selfService bool) (*registry.Person, error)

// ErrIdentification wraps the failures a RequesterIdentifier reports, so
// they answer 403 identification_failed whatever their cause.
var ErrIdentification = errors.New("identification failed")

func (s *Server) accessLogRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/access-log", s.signed(s.limited(limitAccessLog, http.HandlerFunc(s.accessLog))))
}

// identificationFailed is the one answer to every failed identification: the
// cause stays in the hub's log, so the answer cannot probe the registry.
var identificationFailed = fault.New(fault.Forbidden, api.ReasonIdentificationFailed, "the card or document does not identify a person of the registry; nothing about anyone was read")

func (s *Server) accessLog(w http.ResponseWriter, r *http.Request) {
	keyID, err := signedKey(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req api.AccessLogRequest
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel, page}"); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Channel, err = requestChannel(req.Channel, api.ChannelSelfService); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Requester.Method == "" {
		s.fail(w, r, fault.New(fault.Malformed, api.ReasonRequesterEvidenceRequired, "the access log is shown only to the person it is about: send their CIE tap (or, at a counter, their document)"))
		return
	}
	if req.Page == 0 {
		req.Page = 1
	}
	if req.PageSize == 0 {
		req.PageSize = api.DefaultAccessLogPage
	}
	if s.IdentifyRequester == nil {
		s.fail(w, r, errors.New("no verifier of requester evidence is configured, so no access log can be shown"))
		return
	}
	who, err := s.IdentifyRequester(r, req.Requester, req.Channel == api.ChannelSelfService)
	if err != nil {
		if errors.Is(err, ErrIdentification) {
			// Refusals are audited like reads: under the card or code given,
			// with the precise cause, which the answer does not carry.
			s.Log.Info("access log refused: identification failed", "key_id", keyID, "cause", err)
			who := strings.ToUpper(strings.TrimSpace(req.Requester.CF))
			if who == "" {
				who = "NIS " + req.Requester.NIS
			}
			if rec, aerr := s.auditRecorder(); aerr != nil {
				err = aerr
			} else if aerr := rec.Record(r.Context(), audit.Entry{Actor: audit.Actor{Kind: audit.Device, ID: keyID},
				Purpose: accesslog.ConsultPurpose + ", identificazione non riuscita: " + err.Error(), Subject: who,
				Data: accesslog.ConsultData, Channel: req.Channel}); aerr != nil {
				err = fmt.Errorf("the identification failed (%v), and it could not be recorded in the audit log: %w", err, aerr)
			} else {
				err = identificationFailed
			}
		}
		s.fail(w, r, err)
		return
	}
	// At a counter the clerk who prints it is named in the audit log, as
	// for every read there.
	clerk, err := s.counterClerk(r, req.Channel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.auditRecorder()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	src, ok := s.auditSource(r.Context(), rec)
	if !ok {
		s.fail(w, r, errors.New("the hub's audit log cannot be searched"))
		return
	}
	// The look-up is a read of the citizen's data like any other: recorded
	// before it is served, and shown in the log it returns.
	read := audit.Entry{Actor: audit.Actor{Kind: audit.Device, ID: keyID}, Purpose: accesslog.ConsultPurpose, Subject: who.CF,
		Data: accesslog.ConsultData, Channel: req.Channel, Clerk: clerk}
	if err := rec.Record(r.Context(), read); err != nil {
		s.fail(w, r, fmt.Errorf("cannot record the look-up in the audit log: %w", err))
		return
	}
	page, err := accesslog.Query(src, s.placeNames(), s.protocols, who.CF, s.Now(), req.Page, req.PageSize)
	if errors.Is(err, accesslog.ErrBadPage) {
		err = fault.New(fault.Malformed, api.ReasonBadPage, err.Error())
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.AccessLog{CF: who.CF, Name: who.FullName(), From: page.From.String(), To: page.To.String(),
		Page: page.Page, Pages: page.Pages, Total: page.Total, Lines: make([]api.AccessLine, len(page.Lines))}
	for i, l := range page.Lines {
		out.Lines[i] = api.AccessLine{Time: l.Time, Kind: string(l.Kind), Place: l.Place, Clerk: l.Clerk, Channel: l.Channel,
			What: l.What, Why: l.Why, Reference: l.Reference}
	}
	writeJSON(w, http.StatusOK, out)
}

// protocols gives a certificate's protocol number for the log's lines.
func (s *Server) protocols(id string) (string, bool) {
	if s.Desk == nil || s.Desk.Certs == nil {
		return "", false
	}
	rec, err := s.Desk.Certs.Get(id)
	return rec.Protocol, err == nil
}

// placeNames names the actors of audit entries as citizens know them: a
// device or a shop by the shop's name, staff by the city's office.
type placeNames struct {
	s      *Server
	office string
	cache  map[audit.Actor]string
}

func (s *Server) placeNames() *placeNames {
	n := &placeNames{s: s, cache: map[audit.Actor]string{}}
	if s.Desk != nil {
		if st, err := s.Desk.Settings(); err == nil {
			n.office = strings.Trim(strings.TrimSpace(st.Issuer.Office+", "+st.Issuer.Comune), ", ")
		}
	}
	if n.office == "" {
		n.office = "Ufficio anagrafe del Comune"
	}
	return n
}

func (n *placeNames) Place(a audit.Actor) string {
	if p, ok := n.cache[a]; ok {
		return p
	}
	p := n.place(a)
	n.cache[a] = p
	return p
}

func (n *placeNames) place(a audit.Actor) string {
	ops := n.s.Operators
	switch a.Kind {
	case audit.Staff:
		return n.office
	case audit.System:
		return "Sistema informatico del Comune"
	case audit.Device:
		if ops != nil {
			if d, err := ops.Device(a.ID); err == nil {
				if o, err := ops.Get(d.OperatorID); err == nil {
					return o.DisplayName()
				}
			}
		}
		return "Postazione convenzionata non più registrata"
	case audit.Operator:
		if ops != nil {
			if o, err := ops.Get(a.ID); err == nil {
				return o.DisplayName()
			}
		}
		return "Esercizio convenzionato non più registrato"
	}
	return n.office
}

// auditSource is where the access log reads the audit log: the hub's
// store, whatever records into it (an anchoring recorder cannot search),
// else the recorder itself when it can.
func (s *Server) auditSource(ctx context.Context, rec audit.Recorder) (accesslog.Source, bool) {
	switch {
	case s.Stores != nil:
		return store.AuditLog{S: s.Stores, Ctx: ctx}, true
	case s.Desk != nil && s.Desk.Stores != nil:
		return store.AuditLog{S: s.Desk.Stores, Ctx: ctx}, true
	}
	src, ok := rec.(accesslog.Source)
	return src, ok
}
