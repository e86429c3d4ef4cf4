package httpsig

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"strings"
	"testing"
	"time"
)

const benchBody = `{"type":"residenza","codice_fiscale":"RSSMRA80A01F205X","copies":1}`

func benchRequest(b *testing.B) *http.Request {
	r, err := http.NewRequest("POST", "https://hub.example/api/v1/certificates?lang=it", strings.NewReader(benchBody))
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	return r
}

func BenchmarkSignRequest(b *testing.B) {
	s := &Signer{Key: seededKey(1), KeyID: "dev-1", Clock: fixedClock(testNow)}
	r := benchRequest(b)
	body := []byte(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SignRequest(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRequest is the hub's cost per request: parsing, policy,
// key lookup (in memory), Ed25519 verification, digest and nonce.
func BenchmarkVerifyRequest(b *testing.B) {
	key := seededKey(1)
	s := &Signer{Key: key, KeyID: "dev-1", Clock: fixedClock(testNow)}
	keys := StaticKey{KeyID: "dev-1", Key: key.Public().(ed25519.PublicKey)}
	// A store that never remembers lets one signed request be verified
	// repeatedly; the memory store's own cost is measured separately.
	v := &Verifier{Keys: keys, Clock: fixedClock(testNow), Nonces: forgetful{}}
	r := benchRequest(b)
	body := []byte(benchBody)
	if err := s.SignRequest(r, body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyRequest(b.Context(), r, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryNonceStore(b *testing.B) {
	s := NewMemoryNonceStore(0)
	now := testNow
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		nonce, _ := NewNonce(nil)
		// Each nonce lives a minute and time moves a millisecond per call,
		// so the store holds a steady 60 000 entries as a busy hub would.
		now = now.Add(time.Millisecond)
		if _, err := s.Use(b.Context(), "dev-1", nonce, now, now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}

type forgetful struct{}

func (forgetful) Use(_ context.Context, _, _ string, _, _ time.Time) (bool, error) { return true, nil }
