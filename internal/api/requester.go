package api

import "time"

// Requester evidence: how the citizen asking for a certificate (or looking
// at their own access log) was identified. The hub checks it itself, in the
// transaction that issues, and never takes a kiosk's word for who asks
// (DM Interno 3 November 2021 art. 2; the Polis model, DL 50/2022 art. 38).
const (
	// EvidenceCIE: the citizen tapped their CIE. The kiosk sends what the
	// chip gave (NIS, its internal-authentication key, EF.SOD and its
	// answer to a challenge bound to this device, a tap nonce and the tap
	// time, cie.TapChallenge); the hub verifies the chip's answer and the
	// issuer's signature against its own CSCA list.
	EvidenceCIE = "cie"
	// EvidenceDocument: the clerk checked an identity document and typed
	// the citizen's codice fiscale and the document's number; the hub
	// checks the registry holds that valid document for that person.
	// Counter only: self-service needs the CIE and its PIN.
	EvidenceDocument = "document"
)

// RequesterEvidence is who asks, as the kiosk saw them.
type RequesterEvidence struct {
	Method string `json:"method"` // EvidenceCIE or EvidenceDocument

	// EvidenceCIE. Byte fields are base64 (encoding/json's []byte).
	NIS       string    `json:"nis,omitempty"`        // 12 digits, as read
	Kpub      []byte    `json:"kpub,omitempty"`       // EF.Servizi_Int.Kpub as read
	SOD       []byte    `json:"sod,omitempty"`        // EF.SOD as read
	TapNonce  []byte    `json:"tap_nonce,omitempty"`  // 16 random bytes the kiosk drew for this tap
	TappedAt  time.Time `json:"tapped_at,omitzero"`   // the kiosk's clock at the tap, whole seconds
	Response  []byte    `json:"response,omitempty"`   // INTERNAL AUTHENTICATE answer over cie.TapChallenge
	PINProved bool      `json:"pin_proved,omitempty"` // the card accepted the citizen's PIN (self-service)

	// EvidenceDocument.
	CF       string `json:"cf,omitempty"`
	Document string `json:"document,omitempty"` // the number of the identity document shown
}
