package hubclient

import (
	"net/http"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// hubVersion is what the hub's last answer said of the API version this
// client speaks (api.Version).
type hubVersion struct {
	mu     sync.Mutex
	sunset time.Time
}

// noteVersion reads the version headers of an answer from the hub: it
// keeps a retirement date for the status line (Sunset) and returns the
// refusal, reason api.ReasonAPIVersionUnsupported, when the hub states it
// does not serve this client's version. A hub that states nothing (one
// older than the headers) is taken to serve version 1, as it always did.
func (c *Client) noteVersion(resp *http.Response) *api.Refusal {
	st := api.ReadVersion(resp.Header)
	if !st.Stated {
		return nil
	}
	if st.Answered == api.Version {
		// Only an answer in this client's version tells whether that
		// version is being retired (not /healthz, given in the current).
		c.version.mu.Lock()
		c.version.sunset = st.Sunset
		c.version.mu.Unlock()
	}
	if r := st.Unsupported(resp.StatusCode); r != nil {
		if c.Log != nil {
			c.Log.Error("the hub does not serve this kiosk's API version: nothing is sent until the kiosk is updated",
				"speaks", api.Version, "hub serves", st.Supported)
		}
		return r
	}
	return nil
}

// Sunset is the day after which the hub stops serving this client's API
// version, as its last answer stated (RFC 8594 Sunset, with RFC 9745
// Deprecation); ok is false while the version is not being retired.
func (c *Client) Sunset() (sunset time.Time, ok bool) {
	c.version.mu.Lock()
	defer c.version.mu.Unlock()
	return c.version.sunset, !c.version.sunset.IsZero()
}
