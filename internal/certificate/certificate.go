// Package certificate decides which civil-registry certificates may be issued
// to whom, what they say, and what they cost, following ANPR's 15 online
// certificate types (DM Interno 3.11.2021) and DPR 445/2000. It produces a
// Document; rendering and sealing live elsewhere.
package certificate

// Type is an ANPR certificate type, by its API identifier.
type Type string
