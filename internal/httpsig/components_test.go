package httpsig

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

func readRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n"))))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Component values from the examples of RFC 9421 section 2, with the
// identifiers parsed from Signature-Input text as a verifier sees them.
func TestComponentValues(t *testing.T) {
	fields := readRequest(t, `GET /foo HTTP/1.1
Host: www.example.com
X-OWS-Header:   Leading and trailing whitespace.   
Cache-Control: max-age=60
Cache-Control:    must-revalidate
Example-Dict:  a=1,    b=2;x=1;y=2,   c=(a   b   c)
Example-Header: value, with, lots
Example-Header: of, commas

`)
	post := readRequest(t, `POST /path?param=value HTTP/1.1
Host: www.example.com

`)
	post.TLS = nil
	post.URL.Scheme = "https" // the RFC's request was sent over https
	query := readRequest(t, `GET /path?param=value&foo=bar&baz=batman&qux= HTTP/1.1
Host: www.example.com

`)
	encoded := readRequest(t, `GET /parameters?var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something HTTP/1.1
Host: www.example.com

`)
	tests := []struct {
		req  *http.Request
		id   string
		want string
		err  Reason
	}{
		{fields, `"x-ows-header"`, "Leading and trailing whitespace.", ""},
		{fields, `"cache-control"`, "max-age=60, must-revalidate", ""},
		{fields, `"example-dict"`, "a=1,    b=2;x=1;y=2,   c=(a   b   c)", ""},
		{fields, `"example-header";bs`, ":dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:", ""},
		{fields, `"host"`, "www.example.com", ""},
		{fields, `"x-missing"`, "", ReasonMissingComponent},
		// Section 2.1.2: one member of a Dictionary field, re-serialized.
		{fields, `"example-dict";key="a"`, "1", ""},
		{fields, `"example-dict";key="b"`, "2;x=1;y=2", ""},
		{fields, `"example-dict";key="c"`, "(a b c)", ""},
		{fields, `"example-dict";key="z"`, "", ReasonMissingComponent},
		{fields, `"x-ows-header";key="a"`, "", ReasonMissingComponent}, // not a Dictionary
		{fields, `"example-dict";key="a";bs`, "", ReasonUnsupportedComponent},
		{post, `"@method";key="a"`, "", ReasonUnsupportedComponent},
		{fields, `"example-dict";sf`, "", ReasonUnsupportedComponent},
		{post, `"@method"`, "POST", ""},
		{post, `"@target-uri"`, "https://www.example.com/path?param=value", ""},
		{post, `"@authority"`, "www.example.com", ""},
		{post, `"@scheme"`, "https", ""},
		{post, `"@request-target"`, "/path?param=value", ""},
		{post, `"@path"`, "/path", ""},
		{post, `"@query"`, "?param=value", ""},
		{fields, `"@query"`, "?", ""},
		{post, `"@status"`, "", ReasonMissingComponent},
		{post, `"@method";req`, "", ReasonMissingComponent},
		{post, `"@unknown"`, "", ReasonUnsupportedComponent},
		{query, `"@query-param";name="baz"`, "batman", ""},
		{query, `"@query-param";name="qux"`, "", ""},
		{query, `"@query-param";name="param"`, "value", ""},
		{query, `"@query-param";name="nope"`, "", ReasonMissingComponent},
		{encoded, `"@query-param";name="var"`, "this%20is%20a%20big%0Avalue", ""},
		{encoded, `"@query-param";name="bar"`, "with%20plus%20whitespace", ""},
		{encoded, `"@query-param";name="fa%C3%A7ade%22%3A%20"`, "something", ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			ins, err := ParseSignatureInput([]string{"s=(" + tt.id + ")"})
			if err != nil {
				t.Fatal(err)
			}
			c := ins[0].Components[0]
			if c.String() != tt.id {
				t.Errorf("identifier re-serialized as %s", c)
			}
			got, err := RequestMessage(tt.req).value(c)
			if ReasonOf(err) != tt.err || got != tt.want {
				t.Errorf("value = %q, %v; want %q, reason %q", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestResponseComponentValues(t *testing.T) {
	req := readRequest(t, `POST /foo?param=Value&Pet=dog HTTP/1.1
Host: example.com

`)
	h := http.Header{"Content-Type": {"application/json"}}
	m := ResponseMessage(503, h, req)
	tests := []struct {
		c    Component
		want string
		err  Reason
	}{
		{C("@status"), "503", ""},
		{C("content-type"), "application/json", ""},
		{Component{Name: "@method", Req: true}, "POST", ""},
		{Component{Name: "@authority", Req: true}, "example.com", ""},
		{Component{Name: "@query", Req: true}, "?param=Value&Pet=dog", ""},
		{Component{Name: "host", Req: true}, "example.com", ""},
		{C("@method"), "", ReasonMissingComponent},
	}
	for _, tt := range tests {
		got, err := m.value(tt.c)
		if ReasonOf(err) != tt.err || got != tt.want {
			t.Errorf("%s = %q, %v; want %q, reason %q", tt.c, got, err, tt.want, tt.err)
		}
	}
}

func TestNormalizeAuthority(t *testing.T) {
	tests := []struct{ scheme, in, want string }{
		{"https", "Hub.Example:443", "hub.example"},
		{"http", "hub.example:80", "hub.example"},
		{"http", "hub.example:443", "hub.example:443"},
		{"https", "127.0.0.1:8443", "127.0.0.1:8443"},
		{"https", "[::1]:443", "[::1]"},
		{"https", "hub.example", "hub.example"},
	}
	for _, tt := range tests {
		if got := normalizeAuthority(tt.scheme, tt.in); got != tt.want {
			t.Errorf("normalizeAuthority(%s, %s) = %s, want %s", tt.scheme, tt.in, got, tt.want)
		}
	}
}

func TestSignRejectsBadInput(t *testing.T) {
	r := readRequest(t, "GET / HTTP/1.1\nHost: a\n\n")
	key := seededKey(1)
	tests := []struct {
		name  string
		label string
		cs    []Component
		key   []byte
	}{
		{"duplicate component", "sig1", []Component{C("@method"), C("@method")}, key},
		{"upper-case name", "sig1", []Component{C("Date")}, key},
		{"label not a key", "Sig 1", []Component{C("@method")}, key},
		{"short key", "sig1", []Component{C("@method")}, key[:10]},
		{"absent field", "sig1", []Component{C("date")}, key},
	}
	for _, tt := range tests {
		if _, err := Sign(RequestMessage(r), tt.label, tt.cs, Params{}, tt.key); err == nil {
			t.Errorf("%s: Sign succeeded", tt.name)
		}
	}
	s := &Signer{Key: key, KeyID: "k"}
	post := readRequest(t, "POST / HTTP/1.1\nHost: a\nContent-Length: 2\n\n{}")
	if err := s.SignRequest(post, []byte("{}")); err == nil {
		t.Error("a request with content but no Content-Type was signed")
	}
}
