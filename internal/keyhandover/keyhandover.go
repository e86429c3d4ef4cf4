// Package keyhandover is how the hub tells its enrolled kiosks that a new
// key signs its answers: a hand-over names the new Ed25519 public key and
// is signed by the key it replaces. A kiosk pins the hub's key at
// enrolment and accepts another only at the end of a chain of hand-overs
// that starts at the key it pins, so a rotation needs no new enrolment and
// a key slipped in by anyone without the old private key is refused.
package keyhandover

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Header carries the hub's chain of hand-overs (Encode) on every signed
// API answer, so a kiosk learns the new key from the first answer signed
// with it.
const Header = "Sportello-Key-Handover"

// context separates hand-over signatures from every other use of the key
// (API answers, tokens, audit anchors).
const context = "sportello hub key hand-over v1\n"

// Handover passes the hub's answer-signing role from key From to key To.
type Handover struct {
	From string    `json:"from"` // key id of the retiring key, which signs
	To   string    `json:"to"`   // key id of the new key
	Key  string    `json:"key"`  // the new Ed25519 public key, base64url
	At   time.Time `json:"at"`
	Sig  string    `json:"sig"` // Ed25519 by From over message()
}

func (h Handover) message() []byte {
	return []byte(context + h.From + "\n" + h.To + "\n" + h.Key + "\n" + h.At.UTC().Format(time.RFC3339Nano))
}

// KeyID is the key id the hub gives an Ed25519 public key: the RFC 7638
// JWK thumbprint, shortened to 8 bytes, base64url.
func KeyID(pub ed25519.PublicKey) string {
	thumb := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	return base64.RawURLEncoding.EncodeToString(thumb[:8])
}

// Sign makes the hand-over from old (whose id is fromID) to next at at.
func Sign(old ed25519.PrivateKey, fromID string, next ed25519.PublicKey, at time.Time) Handover {
	h := Handover{From: fromID, To: KeyID(next), Key: base64.RawURLEncoding.EncodeToString(next), At: at.UTC()}
	h.Sig = base64.RawURLEncoding.EncodeToString(ed25519.Sign(old, h.message()))
	return h
}

// Encode is the header value of a chain: base64url of its JSON.
func Encode(chain []Handover) string {
	b, _ := json.Marshal(chain) // plain strings and times: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a header value written by Encode.
func Decode(v string) ([]Handover, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, errors.New("the key hand-over is not base64url")
	}
	var chain []Handover
	if err := json.Unmarshal(b, &chain); err != nil {
		return nil, errors.New("the key hand-over is not the expected JSON")
	}
	return chain, nil
}

// ErrNoHandover is returned by Follow when the chain holds no hand-over
// signed by the pinned key.
var ErrNoHandover = errors.New("no key hand-over is signed by the pinned hub key")

// Follow walks chain from the pinned key: each step must be a hand-over
// signed by the current key, naming a key whose id matches. It returns the
// last key reached. A hand-over whose signature does not verify is an
// error, never skipped: it is a forgery, or damage, and the pin stays.
func Follow(pinnedID string, pinned ed25519.PublicKey, chain []Handover) (string, ed25519.PublicKey, error) {
	id, key := pinnedID, pinned
	seen := map[string]bool{id: true}
	moved := false
	for {
		var next *Handover
		for i := range chain {
			if chain[i].From == id {
				next = &chain[i]
				break
			}
		}
		if next == nil {
			break
		}
		sig, err := base64.RawURLEncoding.DecodeString(next.Sig)
		if err != nil || !ed25519.Verify(key, next.message(), sig) {
			return "", nil, fmt.Errorf("the key hand-over from %s to %s is not signed by key %s: refused", next.From, next.To, id)
		}
		raw, err := base64.RawURLEncoding.DecodeString(next.Key)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return "", nil, fmt.Errorf("the key hand-over from %s carries no valid Ed25519 key", next.From)
		}
		pub := ed25519.PublicKey(raw)
		if KeyID(pub) != next.To {
			return "", nil, fmt.Errorf("the key hand-over from %s names key %s but carries key %s", next.From, next.To, KeyID(pub))
		}
		if seen[next.To] {
			return "", nil, fmt.Errorf("the key hand-overs loop back to key %s", next.To)
		}
		seen[next.To] = true
		id, key, moved = next.To, pub, true
	}
	if !moved {
		return "", nil, ErrNoHandover
	}
	return id, key, nil
}
