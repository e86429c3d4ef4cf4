package api

import "time"

// PathReminderPreferences is the citizen's own choice of channel for each
// kind of reminder (issue 17): POST, signed, with a
// ReminderPreferencesRequest carrying the citizen's evidence (at the
// self-service kiosk their CIE tap after the PIN; at a counter, the
// evidence a certificate request carries) and the changes, none to only
// read them. The answer is ReminderPreferences.
const PathReminderPreferences = "/api/v1/reminder-preferences"

// ReminderPreferencesRequest is the body of POST
// /api/v1/reminder-preferences.
type ReminderPreferencesRequest struct {
	Requester RequesterEvidence `json:"requester"`
	Channel   string            `json:"channel,omitempty"` // ChannelSelfService (default) or ChannelCounter
	// Set are the choices to record, all or none.
	Set []ReminderChoice `json:"set,omitempty"`
}

// ReminderChoice is the channel for one kind of reminder. Kind is one
// of "cie-expiry", "request-status", "appointment", "delegation-used";
// Choice one of "both", "appio", "email", "none".
type ReminderChoice struct {
	Kind   string `json:"kind"`
	Choice string `json:"choice"`
}

// ReminderPreferences is a citizen's choice for every kind, in the
// order screens list them; Updated is zero when they never chose.
type ReminderPreferences struct {
	CF      string           `json:"cf"`
	Name    string           `json:"name"`
	Choices []ReminderChoice `json:"choices"`
	Updated time.Time        `json:"updated,omitzero"`
}

// ReasonReminderPrefInvalid is a kind or choice of reminder the hub does
// not know.
const ReasonReminderPrefInvalid = "reminder_pref_invalid"
