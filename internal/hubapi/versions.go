package hubapi

import (
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/api"
)

// HubVersions are the API versions this hub serves. When version 2 ships,
// 1 stays in Supported with api.RetirementOf(the day 2 shipped) in
// Deprecated, and leaves both once that Sunset has passed (the policy:
// api.SupportMonths).
func HubVersions() api.Versions {
	return api.Versions{Current: api.Version, Supported: []string{api.Version}, Deprecated: map[string]api.Retirement{}}
}

// versions answers GET /api/versions: public and unsigned, so that a
// kiosk, a monitor or a person can read which versions the hub serves
// before enrolling anything.
func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, s.apiVersions())
}

// hubVersions is HubVersions made once: every /api/ answer reads it, and
// nothing changes it (SetHeaders only reads).
var hubVersions = HubVersions()

func (s *Server) apiVersions() api.Versions {
	if s.Versions != nil {
		return *s.Versions
	}
	return hubVersions
}

// stateVersions puts the version headers on every /api/ answer and on
// /healthz (the kiosk's status call): the version the path names (the
// current one for paths that name none) and the set served, and
// Deprecation and Sunset for a version being retired. A request for a
// version the hub does not serve is answered by the routes (404) with the
// set, from which the kiosk learns it must be updated.
func (s *Server) stateVersions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if rest, ok := strings.CutPrefix(p, "/api/"); ok || p == "/healthz" {
			vs := s.apiVersions()
			v := vs.Current
			if seg, _, _ := strings.Cut(rest, "/"); isVersion(seg) {
				v = seg[1:]
			}
			vs.SetHeaders(w.Header(), v)
		}
		next.ServeHTTP(w, r)
	})
}

// isVersion reports whether a path segment names a version: v and digits
// ("v1"), not a route such as /api/versions.
func isVersion(seg string) bool {
	if len(seg) < 2 || seg[0] != 'v' {
		return false
	}
	for _, c := range seg[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
