package httpsig

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dunglas/httpsfv"
)

// Message is the view of an HTTP message that component values are read
// from. Build one with RequestMessage or ResponseMessage.
type Message struct {
	Method    string
	Scheme    string // "http" or "https"
	Authority string // host[:port] as sent in the Host header
	URL       *url.URL
	Header    http.Header
	Status    int // responses only; 0 for a request
	// ContentLength stands in for a Content-Length field that net/http
	// moved out of Header (server side); -1 when unknown.
	ContentLength int64
	Request       *Message // for a response: the request it answers, for ";req" components
}

// RequestMessage views a request for signing or verification. It works for
// both sides: a client request (URL carries scheme and host) and a request a
// server received (Host and TLS say where it was sent).
func RequestMessage(r *http.Request) *Message {
	scheme := r.URL.Scheme
	if scheme == "" {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	authority := r.Host
	if authority == "" {
		authority = r.URL.Host
	}
	cl := r.ContentLength
	if cl == 0 && r.Body != nil && r.Body != http.NoBody {
		cl = -1 // a client request whose length net/http will work out itself
	}
	return &Message{Method: r.Method, Scheme: scheme, Authority: authority, URL: r.URL, Header: r.Header, ContentLength: cl}
}

// ResponseMessage views a response with the given status and header; req,
// if not nil, is the request it answers.
func ResponseMessage(status int, h http.Header, req *http.Request) *Message {
	m := &Message{Status: status, Header: h, ContentLength: -1}
	if req != nil {
		m.Request = RequestMessage(req)
	}
	return m
}

func (m *Message) isResponse() bool { return m.Status != 0 }

// value is the component value of c (RFC 9421 section 2), or a refusal
// saying why the message has none.
func (m *Message) value(c Component) (string, error) {
	if c.unsupported != "" {
		return "", refuse(ReasonUnsupportedComponent,
			fmt.Sprintf("component %s uses parameter %q, which this verifier does not support", c, c.unsupported))
	}
	src := m
	if c.Req {
		if m.Request == nil {
			return "", refuse(ReasonMissingComponent,
				fmt.Sprintf("component %s refers to the request, but the message is not a response to a known request", c))
		}
		src = m.Request
	}
	if strings.HasPrefix(c.Name, "@") {
		if c.Key != "" {
			return "", refuse(ReasonUnsupportedComponent, fmt.Sprintf("component %s: the key parameter only applies to Dictionary fields", c))
		}
		return src.derived(c)
	}
	if c.QueryName != "" {
		return "", refuse(ReasonUnsupportedComponent, fmt.Sprintf("component %s: the name parameter only applies to @query-param", c))
	}
	lines, ok := src.Header[http.CanonicalHeaderKey(c.Name)]
	if !ok {
		// net/http keeps these two out of a received request's Header.
		switch {
		case c.Name == "host" && !src.isResponse() && src.Authority != "":
			lines, ok = []string{src.Authority}, true
		case c.Name == "content-length" && src.ContentLength >= 0 && !src.isResponse():
			lines, ok = []string{strconv.FormatInt(src.ContentLength, 10)}, true
		}
	}
	if !ok {
		return "", refuse(ReasonMissingComponent, fmt.Sprintf("covered field %s is not present in the message", c))
	}
	if c.Key != "" {
		return dictionaryMember(c, lines)
	}
	parts := make([]string, len(lines))
	for i, l := range lines {
		l = strings.Trim(l, " \t")
		if c.BS {
			l = ":" + base64.StdEncoding.EncodeToString([]byte(l)) + ":"
		}
		parts[i] = l
	}
	return strings.Join(parts, ", "), nil
}

// dictionaryMember is the value of a field component with the key
// parameter: the named member of the field parsed as a Dictionary,
// re-serialized with its parameters (RFC 9421 section 2.1.2).
func dictionaryMember(c Component, lines []string) (string, error) {
	if c.BS {
		return "", refuse(ReasonUnsupportedComponent, fmt.Sprintf("component %s: the key and bs parameters cannot be combined", c))
	}
	d, err := httpsfv.UnmarshalDictionary(lines)
	if err != nil {
		return "", refuseErr(ReasonMissingComponent, fmt.Sprintf("component %s: the field is not a Dictionary: %v", c, err), err)
	}
	member, ok := d.Get(c.Key)
	if !ok {
		return "", refuse(ReasonMissingComponent, fmt.Sprintf("component %s: the field has no member %q", c, c.Key))
	}
	v, err := httpsfv.Marshal(httpsfv.List{member})
	if err != nil {
		return "", refuseErr(ReasonMissingComponent, fmt.Sprintf("component %s: member %q cannot be serialized: %v", c, c.Key, err), err)
	}
	return v, nil
}

func (m *Message) derived(c Component) (string, error) {
	missing := func(why string) (string, error) {
		return "", refuse(ReasonMissingComponent, fmt.Sprintf("component %s %s", c, why))
	}
	if c.BS {
		return "", refuse(ReasonUnsupportedComponent, fmt.Sprintf("component %s: the bs parameter only applies to fields", c))
	}
	if c.Name == "@status" {
		if !m.isResponse() {
			return missing("only exists in a response")
		}
		return fmt.Sprintf("%03d", m.Status), nil
	}
	if m.isResponse() {
		return missing("only exists in a request; a response covers it with the req parameter")
	}
	switch c.Name {
	case "@method":
		return m.Method, nil
	case "@authority":
		return normalizeAuthority(m.Scheme, m.Authority), nil
	case "@scheme":
		return strings.ToLower(m.Scheme), nil
	case "@target-uri":
		return strings.ToLower(m.Scheme) + "://" + normalizeAuthority(m.Scheme, m.Authority) + m.URL.RequestURI(), nil
	case "@request-target":
		return m.URL.RequestURI(), nil
	case "@path":
		p := m.URL.EscapedPath()
		if p == "" {
			p = "/"
		}
		return p, nil
	case "@query":
		return "?" + m.URL.RawQuery, nil
	case "@query-param":
		return m.queryParam(c)
	default:
		return "", refuse(ReasonUnsupportedComponent, fmt.Sprintf("derived component %s is not supported", c))
	}
}

func (m *Message) queryParam(c Component) (string, error) {
	if c.QueryName == "" {
		return "", refuse(ReasonMalformedSignatureInput, fmt.Sprintf("component %s needs a name parameter", c))
	}
	var found []string
	for _, pair := range strings.Split(m.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		// The identifier carries the name re-encoded, as the value is.
		if formEncode(dk) == c.QueryName {
			found = append(found, dv)
		}
	}
	switch len(found) {
	case 0:
		return "", refuse(ReasonMissingComponent, fmt.Sprintf("query parameter %q named by %s is not in the request", c.QueryName, c))
	case 1:
		return formEncode(found[0]), nil
	default:
		return "", refuse(ReasonMissingComponent,
			fmt.Sprintf("query parameter %q occurs %d times, so %s cannot name one value", c.QueryName, len(found), c))
	}
}

// formEncode percent-encodes everything but unreserved characters, with
// spaces as %20, the re-encoding RFC 9421 section 2.2.8 asks for.
func formEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' ||
			ch == '-' || ch == '.' || ch == '_' || ch == '*' {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}

// normalizeAuthority lower-cases the host and drops the scheme's default
// port, as HTTP semantics (RFC 9110 section 4.2.3) normalize authorities.
func normalizeAuthority(scheme, authority string) string {
	a := strings.ToLower(authority)
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if (port == "443" && strings.EqualFold(scheme, "https")) || (port == "80" && strings.EqualFold(scheme, "http")) {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return a
}

// hasBody reports whether a request declares content, the condition under
// which content-digest and content-type must be covered.
func hasBody(h http.Header, body []byte) bool {
	if len(body) > 0 {
		return true
	}
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && n > 0 {
		return true
	}
	return false
}
