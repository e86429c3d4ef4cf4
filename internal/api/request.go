package api

import (
	"time"

	"github.com/sportello/sportello/internal/request"
)

// Demographic requests (issue 17): a kiosk or a shop's counter files a
// typed form with its attachments; the hub gives it a protocol number and
// the SHA-256 of what was filed, and the office decides it.
const (
	// PathRequests: POST a RequestFiling with an Idempotency-Key header;
	// 201 Request (200 for a retried key).
	PathRequests = "/api/v1/requests"
)

// Upload is a document attached to a filing or an answer: its name and
// its bytes (base64 in JSON). The hub sniffs its type: PDF, JPEG or PNG.
type Upload struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// RequestFiling is the body of POST /api/v1/requests.
type RequestFiling struct {
	// Kind is one of request.Kinds: cambio_indirizzo, cambio_residenza,
	// convivenza_di_fatto, certificato_storico, dat, rettifica_dati.
	Kind string `json:"kind"`
	// Channel is ChannelCounter (default) or ChannelSelfService.
	Channel   string             `json:"channel,omitempty"`
	Requester *RequesterEvidence `json:"requester"`
	// Form has exactly the section of Kind.
	Form        request.Form `json:"form"`
	Attachments []Upload     `json:"attachments,omitempty"`
	// ForCF, when set, is the person the identified requester files for
	// as their delegate: a delegation of theirs in force must cover Kind
	// (refused otherwise with delegation_out_of_scope or
	// delegation_not_found).
	ForCF string `json:"for_cf,omitempty"`
	// IdempotencyKey travels as the Idempotency-Key header.
	IdempotencyKey string `json:"-"`
}

// RequestAnswer is the body of POST /api/v1/requests/{id}/answer: the
// citizen's answer to the office's question, identified as at filing.
type RequestAnswer struct {
	Channel     string             `json:"channel,omitempty"`
	Requester   *RequesterEvidence `json:"requester"`
	Text        string             `json:"text"`
	Attachments []Upload           `json:"attachments,omitempty"`
}

// Request is a filed request as the kiosk prints and shows it.
type Request struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	Protocol string    `json:"protocol"`
	Filed    time.Time `json:"filed"`
	// SHA256 is that of the canonical filing (request.Filing.Canonical),
	// which the protocol entry carries.
	SHA256     string `json:"sha256"`
	Status     string `json:"status"`
	StatusText string `json:"status_text"`
	// Question is the office's question while Status is more_info.
	Question string    `json:"question,omitempty"`
	Decision string    `json:"decision,omitempty"`
	Decided  time.Time `json:"decided,omitzero"`
	// RegisterBy and SilenceAssent are a move's deadlines.
	RegisterBy    time.Time `json:"register_by,omitzero"`
	SilenceAssent time.Time `json:"silence_assent,omitzero"`
	RequesterCF   string    `json:"requester_cf"`
	// DelegateCF is who filed it for RequesterCF under a delegation.
	DelegateCF  string               `json:"delegate_cf,omitempty"`
	Persons     []string             `json:"persons"`
	Attachments []request.Attachment `json:"attachments,omitempty"`
	Replayed    bool                 `json:"replayed,omitempty"`
	// Outcome is what an accepted historical certificate request
	// delivered; its PDF is at …/requests/{id}/outcome.
	Outcome *request.Outcome `json:"outcome,omitempty"`
}

// RequestOf is r as the API answers it.
func RequestOf(r request.Request) Request {
	return Request{ID: r.ID, Kind: string(r.Kind), Title: r.Kind.Title(), Protocol: r.Protocol, Filed: r.Filed, SHA256: r.SHA256,
		Status: string(r.Status), StatusText: r.Status.Italian(), Question: r.Question, Decision: r.Decision, Decided: r.Decided,
		RegisterBy: r.RegisterBy, SilenceAssent: r.SilenceAssent, RequesterCF: r.RequesterCF, DelegateCF: r.DelegateCF, Persons: r.Persons, Attachments: r.Attachments, Outcome: r.Outcome}
}
