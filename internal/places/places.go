// Package places holds the places a codice fiscale and the registry refer to:
// Italian comuni and foreign states, each named by its Belfiore (cadastral)
// code, with the dates the record was valid. Comuni are renamed, merged and
// ceased over time, so one code can have several records.
package places

import "time"

// Kind tells a comune from a foreign state.
type Kind uint8

const (
	Comune Kind = 1
	State  Kind = 2
)

// Place is one validity period of a comune or a foreign state.
type Place struct {
	Code     string    `json:"code"` // Belfiore code: F205, Z100
	Name     string    `json:"name"` // official Italian name in that period
	Kind     Kind      `json:"kind"`
	Province string    `json:"province,omitempty"` // sigla automobilistica for comuni: MI
	ISTAT    string    `json:"istat,omitempty"`    // ISTAT code of the comune or state
	ISO3     string    `json:"iso3,omitempty"`     // ISO 3166-1 alpha-3, states only
	From     time.Time `json:"from"`               // first day valid
	To       time.Time `json:"to,omitzero"`        // last day valid; zero while still valid
}
