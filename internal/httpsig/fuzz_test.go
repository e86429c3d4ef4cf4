package httpsig

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseSignatureInput feeds arbitrary Signature-Input values to the
// parser and, when they parse, through the signature base: neither may
// panic, and a parsed input must re-serialize to something that parses to
// the same components.
func FuzzParseSignatureInput(f *testing.F) {
	for _, s := range []string{
		`sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
		`sig1=("@method" "@authority" "@path" "@query" "content-digest" "content-type");created=1700000000;expires=1700000060;nonce="abc";keyid="dev-1";alg="ed25519"`,
		`sig1=("@status" "content-digest" "@method";req "@path";req);created=1;expires=2;keyid="hub"`,
		`a=("@query-param";name="x" "x-list";bs), b=()`,
		`sig1=(`, `sig1="@method"`, `sig1=("@method");created="x"`, ``, `,`, `sig1=("A")`,
	} {
		f.Add(s)
	}
	u, _ := url.Parse("https://hub.example/api/v1/x?a=1&b=%20c")
	req := &Message{Method: "POST", Scheme: "https", Authority: "hub.example", URL: u, ContentLength: 3,
		Header: http.Header{"Content-Type": {"application/json"}, "X-List": {"a", " b "}}}
	resp := &Message{Status: 200, Header: http.Header{"Content-Digest": {"sha-256=:AA==:"}}, Request: req, ContentLength: -1}
	f.Fuzz(func(t *testing.T, field string) {
		ins, err := ParseSignatureInput([]string{field})
		if err != nil {
			if ReasonOf(err) != ReasonMalformedSignatureInput {
				t.Fatalf("parse error %v has reason %q", err, ReasonOf(err))
			}
			return
		}
		for i := range ins {
			in := &ins[i]
			sp, err := in.SignatureParams()
			if err != nil {
				t.Fatalf("parsed input does not re-serialize: %v", err)
			}
			again, err := ParseSignatureInput([]string{in.Label + "=" + sp})
			if err != nil || len(again) != 1 || len(again[0].Components) != len(in.Components) {
				t.Fatalf("re-serialized %q does not parse back: %v", sp, err)
			}
			for j, c := range in.Components {
				if again[0].Components[j].String() != c.String() {
					t.Fatalf("component %d: %s became %s", j, c, again[0].Components[j])
				}
			}
			for _, m := range []*Message{req, resp} {
				base, err := SignatureBase(m, in)
				if err == nil && !strings.HasSuffix(string(base), sp) {
					t.Fatalf("base %q does not end with the signature params %q", base, sp)
				}
				if err != nil && ReasonOf(err) == "" {
					t.Fatalf("base error %v has no reason", err)
				}
			}
			_ = in.Created.Add(time.Second)
		}
	})
}

// FuzzParseSignature feeds arbitrary Signature values to the parser.
func FuzzParseSignature(f *testing.F) {
	for _, s := range []string{
		`sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`,
		`sig1=:AAAA:, sig2=:AA==:`, `sig1=:not base64:`, `sig1=abc`, `sig1=("x")`, ``, `sig1=:`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		sigs, err := ParseSignature([]string{field})
		if err != nil {
			if ReasonOf(err) != ReasonMalformedSignature {
				t.Fatalf("parse error %v has reason %q", err, ReasonOf(err))
			}
			return
		}
		if len(sigs) > maxLabels {
			t.Fatalf("%d labels accepted, limit %d", len(sigs), maxLabels)
		}
	})
}

// FuzzCheckContentDigest makes sure no Content-Digest value panics the check.
func FuzzCheckContentDigest(f *testing.F) {
	f.Add("sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:", []byte("{\"hello\": \"world\"}\n"))
	f.Add("sha-512=:AA==:, md5=:AA==:", []byte{})
	f.Fuzz(func(t *testing.T, field string, content []byte) {
		if err := CheckContentDigest([]string{field}, content); err != nil && ReasonOf(err) == "" {
			t.Fatalf("error %v has no reason", err)
		}
	})
}
