package hubapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/request/desk"
)

// Demographic requests (issue 17): filed by a kiosk or a shop's counter,
// read back by the shop that filed them, answered when the office asks
// for more. The desk (package request/desk) does the work.

// maxFilingBody bounds a filing's body: the form and its attachments in
// base64 (request.MaxAttachments of request.MaxAttachmentBytes would be
// more than a kiosk sends at once; the desk refuses each one above its
// limit, this refuses a body no filing needs).
const maxFilingBody = 12 << 20

func (s *Server) requestRoutes(mux *http.ServeMux) {
	// api.PathRequests, spelt out for TestOpenAPIMatchesRoutes.
	mux.Handle("POST /api/v1/requests", s.signed(http.HandlerFunc(s.fileRequest)))
	mux.Handle("GET /api/v1/requests/{id}", s.signed(http.HandlerFunc(s.getRequest)))
	mux.Handle("POST /api/v1/requests/{id}/answer", s.signed(http.HandlerFunc(s.answerRequest)))
	mux.Handle("GET /api/v1/requests/{id}/outcome", s.signed(http.HandlerFunc(s.requestOutcome)))
}

var noRequests = fault.New(fault.Unavailable, api.ReasonUnavailable, "this hub takes no demographic requests")

func files(us []api.Upload) []request.File {
	out := make([]request.File, len(us))
	for i, u := range us {
		out[i] = request.File{Name: u.Name, Data: u.Data}
	}
	return out
}

func (s *Server) fileRequest(w http.ResponseWriter, r *http.Request) {
	if s.Requests == nil {
		s.fail(w, r, noRequests)
		return
	}
	op, err := s.operatorOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" || len(key) > 200 {
		s.fail(w, r, fault.New(fault.Malformed, "idempotency_key_required", "every request filing needs an Idempotency-Key header of at most 200 characters, so a retry never files twice"))
		return
	}
	var body api.RequestFiling
	if err := decodeBody(r, maxFilingBody, &body, "the request body is not the expected JSON"); err != nil {
		s.fail(w, r, err)
		return
	}
	ch, err := requestChannel(body.Channel, api.ChannelCounter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	clerk, err := s.counterClerk(r, ch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Requester == nil || body.Requester.Method == "" {
		s.fail(w, r, fault.New(fault.Malformed, api.ReasonRequesterEvidenceRequired, "the filing names no requester evidence: identify the person filing with their CIE, or their codice fiscale and identity document"))
		return
	}
	rec, replayed, err := s.Requests.File(r.Context(), desk.Filing{Kind: request.Kind(body.Kind), Form: body.Form, Files: files(body.Attachments),
		Channel: certificate.Channel(ch), Evidence: evidenceOf(r, *body.Requester), OperatorID: op.ID, Actor: deviceActor(r), Clerk: clerk,
		IdempotencyKey: op.ID + "/" + key, ForCF: body.ForCF})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.RequestOf(rec)
	out.Replayed = replayed
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

// ownRequest reads request id for the shop that filed it: another shop's
// request is answered as one that does not exist.
func (s *Server) ownRequest(r *http.Request) (request.Request, error) {
	op, err := s.operatorOf(r)
	if err != nil {
		return request.Request{}, err
	}
	id := r.PathValue("id")
	rec, err := s.Requests.Get(r.Context(), id)
	if err == nil && rec.OperatorID != op.ID {
		s.Log.Warn("a device asked for another operator's request", "key_id", deviceActor(r).ID, "operator", op.ID, "request", id)
		err = fmt.Errorf("%w: %q", request.ErrNotFound, id)
	}
	return rec, err
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	if s.Requests == nil {
		s.fail(w, r, noRequests)
		return
	}
	rec, err := s.ownRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.RequestOf(rec))
}

// requestOutcome answers the PDF an accepted historical certificate
// request delivered, for the shop that filed it to print for the citizen:
// the certificate the office issued from the registry (the sealed
// original: this is its delivery), or the document it prepared from its
// archive. Each delivery is in the access log, as it shows the subject's
// data to the device.
func (s *Server) requestOutcome(w http.ResponseWriter, r *http.Request) {
	if s.Requests == nil {
		s.fail(w, r, noRequests)
		return
	}
	rec, err := s.ownRequest(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o := rec.Outcome
	if o == nil {
		s.fail(w, r, request.Refuse(request.ReasonState, "La pratica %s non ha un documento da consegnare.", rec.Protocol))
		return
	}
	var pdf []byte
	what := "certificato storico preparato dall'ufficio"
	if o.CertificateID != "" {
		what = "certificato storico " + o.CertificateProtocol
		pdf, err = s.Desk.Certs.PDF(o.CertificateID)
	} else if o.Document != nil {
		_, pdf, err = s.Requests.Attachment(r.Context(), rec.ID, o.Document.SHA256)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Desk.Audit != nil {
		clerk, _ := s.counterClerk(r, string(rec.Channel))
		for _, cf := range rec.Persons {
			e := audit.Entry{Time: s.Now(), Actor: deviceActor(r), Subject: cf, Data: what,
				Purpose: "consegna dell'esito della pratica " + rec.Protocol, Channel: string(rec.Channel), Request: rec.ID, Clerk: clerk}
			if err := s.Desk.Audit.Record(r.Context(), e); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "esito-"+rec.ID+".pdf"))
	w.Write(pdf)
}

func (s *Server) answerRequest(w http.ResponseWriter, r *http.Request) {
	if s.Requests == nil {
		s.fail(w, r, noRequests)
		return
	}
	op, err := s.operatorOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body api.RequestAnswer
	if err := decodeBody(r, maxFilingBody, &body, "the request body is not the expected JSON"); err != nil {
		s.fail(w, r, err)
		return
	}
	ch, err := requestChannel(body.Channel, api.ChannelCounter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	clerk, err := s.counterClerk(r, ch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Requester == nil || body.Requester.Method == "" {
		s.fail(w, r, fault.New(fault.Malformed, api.ReasonRequesterEvidenceRequired, "the answer names no evidence of who answers"))
		return
	}
	// Any shop or kiosk may take the answer: the citizen is identified,
	// and must be one the request concerns.
	rec, err := s.Requests.Answer(r.Context(), r.PathValue("id"), desk.Answer{Text: body.Text, Files: files(body.Attachments),
		Channel: certificate.Channel(ch), Evidence: evidenceOf(r, *body.Requester), OperatorID: op.ID, Actor: deviceActor(r), Clerk: clerk})
	if errors.Is(err, request.ErrNotFound) {
		err = fmt.Errorf("%w: %q", request.ErrNotFound, r.PathValue("id"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.RequestOf(rec))
}
