package httpsig

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// rfcKey reads test-key-ed25519 of RFC 9421 Appendix B.1.4.
func rfcKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	data, err := os.ReadFile("testdata/rfc9421/test-key-ed25519.pem")
	if err != nil {
		t.Fatal(err)
	}
	var pub ed25519.PublicKey
	var priv ed25519.PrivateKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			pub = k.(ed25519.PublicKey)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			priv = k.(ed25519.PrivateKey)
		}
	}
	if pub == nil || priv == nil || !pub.Equal(priv.Public()) {
		t.Fatal("test-key-ed25519.pem must hold a matching public and private key")
	}
	return pub, priv
}

// rfcRequest reads the test-request of RFC 9421 Appendix B.2 as a server
// receives it, with any extra header lines added.
func rfcRequest(t testing.TB, extra string) (*http.Request, []byte) {
	t.Helper()
	raw, err := os.ReadFile("testdata/rfc9421/test-request.http")
	if err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		raw = append(append(append(head, "\r\n"...), strings.ReplaceAll(strings.TrimRight(extra, "\n"), "\n", "\r\n")...), append([]byte("\r\n\r\n"), body...)...)
	}
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	body := new(bytes.Buffer)
	if _, err := body.ReadFrom(r.Body); err != nil {
		t.Fatal(err)
	}
	return r, body.Bytes()
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fieldValue returns the value of "Name: value" in a file of field lines.
func fieldValue(t testing.TB, fields, name string) string {
	t.Helper()
	for _, line := range strings.Split(fields, "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
	}
	t.Fatalf("no %s line", name)
	return ""
}

var b26Components = []Component{C("date"), C("@method"), C("@path"), C("@authority"), C("content-type"), C("content-length")}

func TestRFC9421B26Sign(t *testing.T) {
	_, priv := rfcKey(t)
	r, _ := rfcRequest(t, "")
	fields := readFile(t, "testdata/rfc9421/b26.fields")

	signed, err := Sign(RequestMessage(r), "sig-b26", b26Components,
		Params{Created: time.Unix(1618884473, 0), KeyID: "test-key-ed25519"}, priv)
	if err != nil {
		t.Fatal(err)
	}
	if want := readFile(t, "testdata/rfc9421/b26.base"); string(signed.Base) != want {
		t.Errorf("signature base:\n%s\nwant:\n%s", signed.Base, want)
	}
	if want := fieldValue(t, fields, "Signature-Input"); signed.Input != want {
		t.Errorf("Signature-Input = %s, want %s", signed.Input, want)
	}
	if want := fieldValue(t, fields, "Signature"); signed.Signature != want {
		t.Errorf("Signature = %s, want %s", signed.Signature, want)
	}
}

func TestRFC9421B26Verify(t *testing.T) {
	pub, _ := rfcKey(t)
	r, body := rfcRequest(t, readFile(t, "testdata/rfc9421/b26.fields"))

	ins, err := ParseSignatureInput(r.Header.Values("Signature-Input"))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := ParseSignature(r.Header.Values("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].Label != "sig-b26" || ins[0].KeyID != "test-key-ed25519" || ins[0].Created.Unix() != 1618884473 {
		t.Fatalf("parsed Signature-Input = %+v", ins)
	}
	m := RequestMessage(r)
	if err := VerifySignature(m, &ins[0], sigs["sig-b26"], pub); err != nil {
		t.Fatalf("the RFC's own signature does not verify: %v", err)
	}
	// The vector's Content-Digest is sha-512, which the verifier accepts.
	if err := CheckContentDigest(r.Header.Values("Content-Digest"), body); err != nil {
		t.Errorf("test-request Content-Digest: %v", err)
	}

	// The same bytes with one covered component changed must fail.
	r.Method = "PUT"
	if err := VerifySignature(RequestMessage(r), &ins[0], sigs["sig-b26"], pub); ReasonOf(err) != ReasonInvalidSignature {
		t.Errorf("altered method: got %v, want %s", err, ReasonInvalidSignature)
	}
	r.Method = "POST"

	// The hub's policy demands expires and a nonce, which B.2.6 lacks.
	v := &Verifier{Keys: StaticKey{Key: pub}, Clock: func() time.Time { return time.Unix(1618884473, 0) }}
	if _, err := v.VerifyRequest(t.Context(), r, body); !errors.Is(err, &Error{Reason: ReasonMissingParameter}) {
		t.Errorf("policy check of B.2.6: got %v, want %s", err, ReasonMissingParameter)
	}
}

// TestRFC9421Section24 rebuilds the signature base of the request-response
// binding example of RFC 9421 section 2.4, whose response covers the
// request's signature by "signature";req;key="sig1", and checks the RFC's
// own ECDSA P-256 signature over it: the base is byte for byte the RFC's.
func TestRFC9421Section24(t *testing.T) {
	const reqSig = "sig1=:LAH8BjcfcOcLojiuOBFWn0P5keD3xAOuJRGziCLuD8r5MW9S0RoXXLzLSRfGY/3SF8kVIkHjE13SEFdTo4Af/fJ/Pu9wheqoLVdwXyY/UkBIS1M8Brc8IODsn5DFIrG0IrburbLi0uCc+E2ZIIb6HbUJ+o+jP58JelMTe0QE3IpWINTEzpxjqDf5/Df+InHCAkQCTuKsamjWXUpyOT1Wkxi7YPVNOjW4MfNuTZ9HdbD2Tr65+BXeTG9ZS/9SWuXAc+BZ8WyPz0QRz//ec3uWXd7bYYODSjRAxHqX+S1ag3LZElYyUKaAIjZ8MGOt4gXEwCSLDv/zqxZeWLj/PDkn6w==:"
	req, _ := rfcRequest(t, "Signature: "+reqSig)
	resp := http.Header{"Content-Length": {"62"}, "Content-Type": {"application/json"}}
	ins, err := ParseSignatureInput([]string{`reqres=("@status" "content-length" "content-type" "signature";req;key="sig1" "@authority";req "@method";req);created=1618884479;keyid="test-key-ecc-p256"`})
	if err != nil {
		t.Fatal(err)
	}
	if c := ins[0].Components[3]; c.Name != "signature" || !c.Req || c.Key != "sig1" {
		t.Fatalf("parsed component %+v", c)
	}
	base, err := SignatureBase(ResponseMessage(503, resp, req), &ins[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := readFile(t, "testdata/rfc9421/s24.base"); string(base) != want {
		t.Fatalf("signature base:\n%s\nwant:\n%s", base, want)
	}
	block, _ := pem.Decode([]byte(readFile(t, "testdata/rfc9421/test-key-ecc-p256.pub.pem")))
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString("mh17P4TbYYBmBwsXPT4nsyVzW4Rp9Fb8WcvnfqKCQLoMvzOBLD/n32tL/GPW6XE5GAS5bdsg1khK6lBzV1Cx/Q==")
	digest := sha256.Sum256(base)
	if !ecdsa.Verify(k.(*ecdsa.PublicKey), digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Error("the RFC's ECDSA signature does not verify over the rebuilt base")
	}

	// A request whose Signature field lacks the member cannot be answered.
	other, _ := rfcRequest(t, "Signature: sig2=:AAAA:")
	if _, err := SignatureBase(ResponseMessage(503, resp, other), &ins[0]); ReasonOf(err) != ReasonMissingComponent {
		t.Errorf("base for a request without sig1: %v, want %s", err, ReasonMissingComponent)
	}
}

func TestRFC9530ContentDigest(t *testing.T) {
	item := []byte("{\"hello\": \"world\"}\n")
	tests := []struct {
		name    string
		content []byte
		field   string
		want    Reason
	}{
		{"B.1 sha-256", item, "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:", ""},
		{"section 2 sha-512", item, "sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:", ""},
		{"empty content", nil, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:", ""},
		{"partial content", []byte("\"world\"}\n"), "sha-256=:jjcgBDWNAtbYUXI37CVG3gRuGOAjaaDRGpIUFsdyepQ=:", ""},
		{"both algorithms", item, "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:, sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:", ""},
		{"insecure one ignored", item, "md5=:AAAA:, sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:", ""},
		{"one of two wrong", item, "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:, sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:", ReasonDigestMismatch},
		{"wrong content", []byte("{\"hello\": \"world\"}"), "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:", ReasonDigestMismatch},
		{"only insecure", item, "md5=:AAAA:", ReasonUnsupportedDigest},
		{"not a dictionary", item, "sha-256=RK/0qy18", ReasonMalformedDigest},
		{"a token, not bytes", item, "sha-256=abc", ReasonMalformedDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckContentDigest([]string{tt.field}, tt.content)
			if got := ReasonOf(err); got != tt.want || (tt.want == "" && err != nil) {
				t.Errorf("CheckContentDigest = %v, want reason %q", err, tt.want)
			}
		})
	}
	// What this package sends must be what RFC 9530 shows.
	if got, want := ContentDigest(item), tests[0].field; got != want {
		t.Errorf("ContentDigest = %s, want %s", got, want)
	}
	if got, want := ContentDigest(nil), tests[2].field; got != want {
		t.Errorf("ContentDigest(empty) = %s, want %s", got, want)
	}
}
