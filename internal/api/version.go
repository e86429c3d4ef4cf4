package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Version is the API version this code speaks: the hub serves it under
// /api/v<Version>/ and the kiosk's client sends nothing else.
const Version = "1"

// SupportMonths is the policy for retiring a version (README, "API
// versions"): once its successor ships, a version stays served this many
// months, answered meanwhile with Deprecation and Sunset headers so every
// kiosk still on it says so to its operator, and is then withdrawn.
const SupportMonths = 12

// The headers of every /api/ answer (and of /healthz): the version that
// answered and every version the hub serves. A kiosk whose version is not
// in the set stops sending (ReasonAPIVersionUnsupported).
const (
	HeaderVersion   = "Sportello-API"
	HeaderSupported = "Sportello-API-Supported"
	// HeaderDeprecation (RFC 9745) carries, as "@<unix seconds>", when the
	// version answering was deprecated; HeaderSunset (RFC 8594) the HTTP
	// date after which it is no longer served.
	HeaderDeprecation = "Deprecation"
	HeaderSunset      = "Sunset"
)

// ReasonAPIVersionUnsupported: the hub does not serve the API version the
// kiosk speaks (a hub upgraded past the kiosk's version, or one older than
// it). The kiosk says so and sends nothing: its queue waits whole for a
// kiosk updated to a version the hub serves.
const ReasonAPIVersionUnsupported = "api_version_unsupported"

// Retirement is a version the hub still serves but is retiring: deprecated
// when its successor shipped, withdrawn at Sunset.
type Retirement struct {
	Deprecated time.Time `json:"deprecated"`
	Sunset     time.Time `json:"sunset"`
}

// RetirementOf is the retirement of a version whose successor shipped at
// shipped, by the policy (SupportMonths).
func RetirementOf(shipped time.Time) Retirement {
	return Retirement{Deprecated: shipped.UTC(), Sunset: shipped.UTC().AddDate(0, SupportMonths, 0)}
}

// Versions is the answer of GET /api/versions, public and unsigned: the
// version the hub would have a new kiosk speak, every version it serves,
// and those it is retiring.
type Versions struct {
	Current    string                `json:"current"`
	Supported  []string              `json:"supported"`
	Deprecated map[string]Retirement `json:"deprecated"`
}

// SetHeaders writes the version headers of an answer given in version v:
// which version answered, the set served and, for a version being retired,
// Deprecation and Sunset.
func (vs Versions) SetHeaders(h http.Header, v string) {
	h.Set(HeaderVersion, v)
	h.Set(HeaderSupported, strings.Join(vs.Supported, ", "))
	if r, ok := vs.Deprecated[v]; ok {
		h.Set(HeaderDeprecation, "@"+strconv.FormatInt(r.Deprecated.Unix(), 10))
		h.Set(HeaderSunset, r.Sunset.UTC().Format(http.TimeFormat))
	}
}

// VersionStatus is what a client reads of an answer's version headers.
type VersionStatus struct {
	// Stated is whether the answer carried the supported set at all: a
	// hub older than the headers states nothing, and is taken at its word
	// that it serves /api/v1/.
	Stated    bool
	Supported []string
	// Answered is the version that answered (HeaderVersion): an answer to
	// a path naming no version (/healthz) is given in the hub's current
	// one, and says nothing of the client's retirement.
	Answered string
	// Sunset is, when the hub is retiring the client's version, the day
	// after which it no longer serves it; zero otherwise. Deprecated is
	// when it was deprecated (zero when the header was unreadable).
	Sunset     time.Time
	Deprecated time.Time
}

// ReadVersion reads an answer's version headers for a client speaking
// Version.
func ReadVersion(h http.Header) VersionStatus {
	var st VersionStatus
	if s := h.Get(HeaderSupported); s != "" {
		st.Stated = true
		for v := range strings.SplitSeq(s, ",") {
			if v = strings.TrimSpace(v); v != "" {
				st.Supported = append(st.Supported, v)
			}
		}
	}
	// Deprecation and Sunset speak of the version that answered; only
	// the client's own concerns it.
	st.Answered = h.Get(HeaderVersion)
	if st.Answered != "" && st.Answered != Version {
		return st
	}
	if d := h.Get(HeaderDeprecation); strings.HasPrefix(d, "@") {
		if secs, err := strconv.ParseInt(d[1:], 10, 64); err == nil {
			st.Deprecated = time.Unix(secs, 0).UTC()
		}
	}
	if s := h.Get(HeaderSunset); s != "" {
		if t, err := http.ParseTime(s); err == nil {
			st.Sunset = t.UTC()
		}
	}
	if !st.Deprecated.IsZero() && st.Sunset.IsZero() {
		// Deprecated with no date stated: the policy's.
		st.Sunset = RetirementOf(st.Deprecated).Sunset
	}
	return st
}

// Unsupported is the refusal a client makes of an answer whose hub states
// it does not serve Version; nil when it does or states nothing. status is
// the answer's; a success it does not mean to give (a route of the same
// path in another version) is held as 410 Gone, so that it is no success.
func (st VersionStatus) Unsupported(status int) *Refusal {
	if !st.Stated || slices.Contains(st.Supported, Version) {
		return nil
	}
	if status < http.StatusBadRequest {
		status = http.StatusGone
	}
	return &Refusal{Status: status, Reason: ReasonAPIVersionUnsupported,
		Message: fmt.Sprintf("the hub serves API version %s, not version %s which this kiosk speaks: the kiosk must be updated",
			strings.Join(st.Supported, ", "), Version)}
}
