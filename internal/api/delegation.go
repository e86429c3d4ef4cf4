package api

import "time"

// Paths of the delegations' routes (issue 17). Every one is signed and
// carries the evidence of the citizen whose delegations they are.
const (
	PathDelegations    = "/api/v1/delegations"
	PathDelegationList = "/api/v1/delegations/list"
	// PathDelegationRevoke is followed by the id and "/revoke".
	PathDelegationRevoke = "/api/v1/delegations/"
)

// DelegationScope is what a delegation lets the delegate do.
type DelegationScope struct {
	Certificates []string `json:"certificates,omitempty"` // certificate types about the delegator
	Requests     []string `json:"requests,omitempty"`     // request kinds filed for the delegator
	Appointments bool     `json:"appointments,omitempty"` // book, move, cancel the delegator's appointments
}

// DelegationRequest gives a delegation: POST /api/v1/delegations, with an
// Idempotency-Key. Requester is the delegator's evidence (CIE and PIN at
// a self-service kiosk, CIE or document at a counter).
type DelegationRequest struct {
	Requester  RequesterEvidence `json:"requester"`
	Channel    string            `json:"channel,omitempty"` // ChannelSelfService (default) or ChannelCounter
	DelegateCF string            `json:"delegate_cf"`
	Scope      DelegationScope   `json:"scope"`
	Until      string            `json:"until"` // YYYY-MM-DD, the last day it may be used
}

// DelegationsRequest identifies the citizen whose delegations are listed
// (POST /api/v1/delegations/list) or who revokes one (POST
// /api/v1/delegations/{id}/revoke).
type DelegationsRequest struct {
	Requester RequesterEvidence `json:"requester"`
	Channel   string            `json:"channel,omitempty"`
}

// Delegation is one delegation as the hub answers it.
type Delegation struct {
	ID            string          `json:"id"`
	DelegatorCF   string          `json:"delegator_cf"`
	DelegatorName string          `json:"delegator_name"`
	DelegateCF    string          `json:"delegate_cf"`
	DelegateName  string          `json:"delegate_name,omitempty"`
	Scope         DelegationScope `json:"scope"`
	Until         string          `json:"until"`
	Created       time.Time       `json:"created"`
	// State is "attiva", "revocata" or "scaduta".
	State   string          `json:"state"`
	Revoked time.Time       `json:"revoked,omitzero"`
	Uses    []DelegationUse `json:"uses"`
}

// DelegationUse is one act done under a delegation.
type DelegationUse struct {
	At      time.Time `json:"at"`
	Service string    `json:"service"`
	Ref     string    `json:"ref"`
	Channel string    `json:"channel"`
	Place   string    `json:"place,omitempty"`
}

// Delegations are a citizen's delegations, newest first.
type Delegations struct {
	CF       string       `json:"cf"`
	Name     string       `json:"name"`
	Given    []Delegation `json:"given"`
	Received []Delegation `json:"received"`
}
