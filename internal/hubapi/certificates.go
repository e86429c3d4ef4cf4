package hubapi

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

func (s *Server) certificateRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/certificates", s.signed(s.limited(limitIssuance, http.HandlerFunc(s.issueCertificate))))
	mux.Handle("GET /api/v1/certificates/{id}/pdf", s.signed(http.HandlerFunc(s.certificatePDF)))
	mux.HandleFunc("GET /.well-known/jwks.json", s.jwks)
	mux.HandleFunc("GET /v/{id}", s.verificationPage)
}

// signed puts the RFC 9421 check in front of a kiosk route, and then the
// clerk session the request names (withClerk).
func (s *Server) signed(h http.Handler) http.Handler {
	return s.signedOnly(s.withClerk(h))
}

// signedOnly is the RFC 9421 check alone.
func (s *Server) signedOnly(h http.Handler) http.Handler {
	if s.Verifier == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, &httpsig.Error{Reason: "missing_signature", Message: "this hub accepts no signed requests yet: no device verifier is configured"})
		})
	}
	return httpsig.Middleware(s.Verifier, h)
}

// maxRequestBody bounds what a certificate request may weigh.
const maxRequestBody = 64 << 10

func (s *Server) operatorOf(r *http.Request) (issuance.Operator, error) {
	keyID, err := signedKey(r)
	if err != nil {
		return issuance.Operator{}, err
	}
	if s.DeviceOperator == nil {
		return issuance.Operator{}, errors.New("no operator directory is configured")
	}
	return s.DeviceOperator(r.Context(), keyID)
}

func (s *Server) issueCertificate(w http.ResponseWriter, r *http.Request) {
	op, err := s.operatorOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" || len(key) > 200 {
		s.fail(w, r, fault.New(fault.Malformed, "idempotency_key_required", "every certificate request needs an Idempotency-Key header of at most 200 characters, so a retry never issues or charges twice"))
		return
	}
	var req api.CertificateRequest
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON"); err != nil {
		s.fail(w, r, err)
		return
	}
	ch, err := requestChannel(req.Channel, api.ChannelCounter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	channel := certificate.Channel(ch)
	clerk, err := s.counterClerk(r, string(channel))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Requester == nil || req.Requester.Method == "" {
		s.fail(w, r, fault.New(fault.Malformed, api.ReasonRequesterEvidenceRequired, "the request names no requester evidence: identify the person asking with their CIE, or their codice fiscale and identity document, and send it as requester"))
		return
	}
	at, err := historicalDate(req.At)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if id := strings.TrimSpace(req.PaymentID); id != "" && s.Payments != nil {
		// A pagoPA notice paid since the kiosk last asked: the desk must
		// see it paid. The service not answering leaves it as stored.
		if _, err := s.Payments.Get(r.Context(), id); err != nil && !errors.Is(err, payment.ErrServiceDown) && !errors.Is(err, payment.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
	}
	// A key is scoped to the operator so two shops can never collide.
	res, err := s.Desk.Issue(r.Context(), issuance.Request{
		SubjectCF: req.CF, Types: req.Types, Exemption: req.Exemption, Evidence: evidenceOf(r, *req.Requester),
		Contrassegno: req.Contrassegno, Use: req.Use,
		Channel: channel, Operator: op, IdempotencyKey: op.ID + "/" + key, Actor: deviceActor(r), Clerk: clerk,
		At: at, PaymentID: strings.TrimSpace(req.PaymentID),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec := res.Record
	types := make([]string, len(rec.Types))
	for i, t := range rec.Types {
		types[i] = string(t)
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, api.Certificate{
		ID: rec.ID, Protocol: rec.Protocol, Title: rec.Title, Types: types, Fees: rec.Fees, TotalCents: rec.TotalCents,
		PDFURL: "/api/v1/certificates/" + rec.ID + "/pdf", VerifyURL: s.Desk.VerifyURL(rec.ID),
		Issued: rec.Issued, Replayed: res.Replayed,
	})
}

func (s *Server) certificatePDF(w http.ResponseWriter, r *http.Request) {
	op, err := s.operatorOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	rec, err := s.Desk.Certs.Get(id)
	if err == nil && rec.OperatorID != op.ID {
		// Another shop's certificate: answer exactly as for an id that does
		// not exist, so a device learns nothing of other shops' records.
		s.Log.Warn("a device asked for another operator's certificate", "key_id", deviceActor(r).ID, "operator", op.ID, "certificate", id)
		err = unknownCertificate(id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c := r.URL.Query().Get("copy"); c == "1" || c == "true" {
		s.certificateCopy(w, r, rec)
		return
	}
	pdf, err := s.Desk.Certs.PDF(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "certificato-"+id+".pdf"))
	w.Write(pdf)
}

// certificateCopy answers ?copy=1: a copy of the certificate (issue 15: a
// self-service reprint is one copy, never a second original), rebuilt from
// its record, marked "COPIA — non valida come originale" on every page
// and unsealed. It is offered while the original is (the city's
// re-download window), and audited as a copy: it shows the subject's data
// to the device again.
func (s *Server) certificateCopy(w http.ResponseWriter, r *http.Request, rec certificate.Record) {
	if !rec.PDFDeleted.IsZero() {
		s.fail(w, r, fmt.Errorf("%w: certificate %s", certificate.ErrPDFExpired, rec.ID))
		return
	}
	pdf, err := s.Desk.CopyPDF(rec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Desk.Audit != nil {
		clerk, _ := s.counterClerk(r, string(rec.Channel))
		types := make([]string, len(rec.Types))
		for i, t := range rec.Types {
			types[i] = string(t)
		}
		e := audit.Entry{Time: s.Now(), Actor: deviceActor(r), Subject: rec.SubjectCF, Data: "copia del certificato " + strings.Join(types, "+"),
			Purpose: "copia (ristampa) del certificato " + rec.Protocol + ", non valida come originale", Channel: string(rec.Channel), Request: rec.ID, Clerk: clerk}
		if err := s.Desk.Audit.Record(r.Context(), e); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.Log.Info("certificate copy", "id", rec.ID, "key_id", deviceActor(r).ID)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "certificato-"+rec.ID+"-copia.pdf"))
	w.Write(pdf)
}

// evidenceOf is the requester evidence of a verified request: the body's,
// bound to the device whose signature the request carries (a CIE tap's
// challenge names it), never to one the body could claim.
func evidenceOf(r *http.Request, e api.RequesterEvidence) identify.Evidence {
	keyID, _ := httpsig.KeyID(r.Context())
	return identify.Evidence{Method: identify.Method(e.Method), Device: keyID, NIS: e.NIS, Kpub: e.Kpub, SOD: e.SOD,
		TapNonce: e.TapNonce, TappedAt: e.TappedAt, Response: e.Response, PINProved: e.PINProved, CF: e.CF, Document: e.Document}
}

// deviceActor is the enrolled device a verified request came from, as the
// audit log names it.
func deviceActor(r *http.Request) audit.Actor {
	keyID, _ := httpsig.KeyID(r.Context())
	return audit.Actor{Kind: audit.Device, ID: keyID}
}

// unknownCertificate is certbolt's answer for an unknown certificate id.
func unknownCertificate(id string) error {
	return fmt.Errorf("%w: no certificate has id %q", certificate.ErrNotFound, id)
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, s.Desk.Keys.JWKS())
}

// verification is what the public page and its JSON twin say.
type verification struct {
	ID       string             `json:"id"`
	Status   string             `json:"status"` // valid, revoked, purged, unknown
	Title    string             `json:"title,omitempty"`
	Protocol string             `json:"protocol,omitempty"`
	Issued   string             `json:"issued,omitempty"`
	Subject  string             `json:"subject,omitempty"`
	Facts    []certificate.Fact `json:"facts,omitempty"`
	Revoked  string             `json:"revoked,omitempty"`
	Reason   string             `json:"revoke_reason,omitempty"`
	Issuer   string             `json:"issuer,omitempty"`
	// Signatory and Seal say who signed: the certifying officer and the
	// electronic seal on the PDF, as recorded at issue.
	Signatory string `json:"signatory,omitempty"`
	Seal      string `json:"seal,omitempty"`
}

func (s *Server) verificationPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v := verification{ID: id, Status: "unknown", Issuer: s.Desk.Issuer.Comune}
	status := fault.NotFound.Status()
	rec, err := s.Desk.Certs.Get(id)
	var gone *certificate.PurgedError
	switch {
	case errors.As(err, &gone):
		// Issued here, its record purged at the end of the retention
		// period: the day alone, never who it was about.
		status = fault.Gone.Status()
		v.Status, v.Issued = "purged", gone.Issued.Italian()
	case err == nil:
		status = http.StatusOK
		v.Status, v.Title, v.Protocol = string(rec.Status), rec.Title, rec.Protocol
		v.Issued = rec.Issued.In(protocol.Rome).Format("02/01/2006 15:04")
		v.Subject, v.Facts = rec.SubjectName, rec.Facts
		v.Signatory, v.Seal = rec.Signatory, rec.Seal
		if rec.Status == certificate.Revoked {
			v.Revoked = rec.RevokedAt.In(protocol.Rome).Format("02/01/2006 15:04")
			v.Reason = rec.RevokeReason
		}
	case !errors.Is(err, certificate.ErrNotFound):
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	verifyHeaders(w.Header())
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, status, v)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := verifyTmpl.Execute(w, v); err != nil {
		s.Log.Error("verification page", "err", err)
	}
}

// verifyStyle is the verification page's one inline style sheet; the
// page's Content-Security-Policy allows it by its hash and nothing else.
const verifyStyle = `
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.5}
.s{font-size:1.6rem;font-weight:700;padding:.6rem 1rem;border-radius:.4rem}
.valid{background:#e3f4e1;color:#0b5d1e}.revoked{background:#fde2e1;color:#8a1010}.unknown{background:#eee;color:#333}
dt{font-weight:600}dd{margin:0 0 .6rem 0}
`

// verifyCSP is the page's Content-Security-Policy, worked out once.
var verifyCSP = func() string {
	sum := sha256.Sum256([]byte(verifyStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

// verifyHeaders are the verification page's security headers: no script,
// no frames around it (a page that says "valid" must not be dressed up
// inside another site's), no content sniffing.
func verifyHeaders(h http.Header) {
	h.Set("Content-Security-Policy", verifyCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

var verifyTmpl = template.Must(template.New("v").Parse(`<!doctype html>
<html lang="it"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Verifica certificato {{.ID}}</title>
<style>` + verifyStyle + `</style></head><body>
<p>{{.Issuer}} — verifica dei certificati anagrafici / certificate verification</p>
{{if eq .Status "valid"}}<p class="s valid" role="status">Certificato valido · Valid certificate</p>
{{else if eq .Status "revoked"}}<p class="s revoked" role="status">Certificato revocato · Revoked certificate</p>
{{else if eq .Status "purged"}}<p class="s unknown" role="status">Certificato rilasciato da questo comune, dati non più conservati · Certificate issued here, details no longer held</p>
{{else}}<p class="s unknown" role="status">Certificato sconosciuto · Unknown certificate</p>{{end}}
<dl>
<dt>Identificativo / Id</dt><dd>{{.ID}}</dd>
{{if .Title}}<dt>Certificato</dt><dd>{{.Title}}</dd>
<dt>Protocollo</dt><dd>{{.Protocol}}</dd>
<dt>Rilasciato il / Issued</dt><dd>{{.Issued}}</dd>
<dt>Intestatario / Subject</dt><dd>{{.Subject}}</dd>
{{range .Facts}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>{{end}}
{{if .Signatory}}<dt>Firmato da / Signed by</dt><dd>{{.Signatory}}</dd>{{end}}
{{if .Seal}}<dt>Sigillo elettronico / Electronic seal</dt><dd>{{.Seal}}</dd>{{end}}{{end}}
{{if eq .Status "purged"}}<dt>Rilasciato il / Issued on</dt><dd>{{.Issued}}</dd>
<dt>Conservazione / Retention</dt><dd>I dati del rilascio sono stati cancellati al termine del periodo di conservazione; il numero di protocollo resta nel registro del comune. The issuance record was deleted at the end of its retention period; the protocol register still holds its entry.</dd>{{end}}
{{if .Revoked}}<dt>Revocato il / Revoked</dt><dd>{{.Revoked}}: {{.Reason}}</dd>{{end}}
</dl>
<p>Confronti questi dati con il certificato cartaceo. Compare these data with the paper certificate.</p>
</body></html>
`))

// historicalDate reads the request's "at", the day a historical certificate
// describes; empty is no date. Whether the types want one is the desk's
// rule (certificate.CheckDate).
func historicalDate(s string) (registry.Date, error) {
	if strings.TrimSpace(s) == "" {
		return registry.Date{}, nil
	}
	d, err := registry.ParseDate(strings.TrimSpace(s))
	if err != nil {
		return registry.Date{}, fault.New(fault.Malformed, "date_invalid", "at: "+err.Error())
	}
	return d, nil
}
