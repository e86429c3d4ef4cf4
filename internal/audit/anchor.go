package audit

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A signed anchor is the chain's head as it moves, signed with the hub's
// Ed25519 issuing key and kept outside the store: a store whose tail was
// cut, with its recorded head moved back, no longer reaches its last
// anchor; one whose entries were rewritten no longer has the anchored hash
// at the anchored number. The daily anchors kept in the store itself cannot
// show either for today.
//
// An anchor is one line of text, five fields separated by one space:
//
//	SEQ HASH TIME KEYID SIGNATURE
//
//	SEQ        the number of the head entry, decimal
//	HASH       that entry's chain hash, 64 lower-case hex digits
//	TIME       when the hub anchored it, UTC, RFC 3339 with milliseconds
//	KEYID      the "kid" of the signing key in the hub's /.well-known/jwks.json
//	SIGNATURE  Ed25519, standard base64 with padding (88 characters), over
//	           AnchorContext followed by the first four fields exactly as
//	           written ("SEQ HASH TIME KEYID")
//
// for example
//
//	1207 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 2026-03-14T10:22:31.123Z Xk3v0aH1b2c iNy…==
//
// To check one by hand (openssl 3):
//
//	line='…'; body=${line% *}; sig=${line##* }
//	printf 'sportello audit anchor v1\n%s' "$body" > msg
//	printf '%s' "$sig" | base64 -d > sig.bin
//	openssl pkey -in DIR/keys/token-ed25519.pem -pubout -out pub.pem
//	openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg -sigfile sig.bin
//
// The context line keeps an anchor's signature from being taken for any
// other message the same key signs (QR tokens, API responses): none of
// those begins with it.
const AnchorContext = "sportello audit anchor v1\n"

// anchorTime is TIME's layout: fixed width, so the file lines up.
const anchorTime = "2006-01-02T15:04:05.000Z"

// SignedHead is one signed anchor.
type SignedHead struct {
	Head
	Time  time.Time
	KeyID string
	Sig   []byte
	body  string // the signed fields as read, when read from a line
}

// Body is the signed part of the line: "SEQ HASH TIME KEYID".
func (s SignedHead) Body() string {
	if s.body != "" {
		return s.body
	}
	return fmt.Sprintf("%d %s %s %s", s.Seq, s.Hash, s.Time.UTC().Format(anchorTime), s.KeyID)
}

// Message is what the signature covers.
func (s SignedHead) Message() []byte { return []byte(AnchorContext + s.Body()) }

// String is the anchor's line, without its new-line.
func (s SignedHead) String() string { return s.Body() + " " + base64.StdEncoding.EncodeToString(s.Sig) }

// ErrAnchorSyntax is wrapped by ParseSignedHead's errors.
var ErrAnchorSyntax = errors.New("not an audit anchor line")

// ParseSignedHead reads a line as String writes it. It checks the form
// only; Check checks the signature.
func ParseSignedHead(line string) (SignedHead, error) {
	f := strings.Split(line, " ")
	if len(f) != 5 {
		return SignedHead{}, fmt.Errorf("%w: %d fields, not the 5 of SEQ HASH TIME KEYID SIGNATURE", ErrAnchorSyntax, len(f))
	}
	seq, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil || seq == 0 {
		return SignedHead{}, fmt.Errorf("%w: %q is not an entry number", ErrAnchorSyntax, f[0])
	}
	h, err := ParseHash(f[1])
	if err != nil {
		return SignedHead{}, fmt.Errorf("%w: %v", ErrAnchorSyntax, err)
	}
	at, err := time.Parse(time.RFC3339, f[2])
	if err != nil {
		return SignedHead{}, fmt.Errorf("%w: %q is not an RFC 3339 time", ErrAnchorSyntax, f[2])
	}
	if f[3] == "" {
		return SignedHead{}, fmt.Errorf("%w: no key id", ErrAnchorSyntax)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(f[4])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return SignedHead{}, fmt.Errorf("%w: %q is not a base64 Ed25519 signature", ErrAnchorSyntax, f[4])
	}
	return SignedHead{Head: Head{Seq: seq, Hash: h}, Time: at.UTC(), KeyID: f[3], Sig: sig,
		body: strings.Join(f[:4], " ")}, nil
}

// ErrAnchorForged is wrapped by Check's errors.
var ErrAnchorForged = errors.New("audit anchor not signed by the hub")

// Check verifies the signature with the key of the anchor's key id among
// keys.
func (s SignedHead) Check(keys map[string]ed25519.PublicKey) error {
	pub, ok := keys[s.KeyID]
	if !ok {
		return fmt.Errorf("%w: it names the key %q, which is not the hub's", ErrAnchorForged, s.KeyID)
	}
	if !ed25519.Verify(pub, s.Message(), s.Sig) {
		return fmt.Errorf("%w: its signature does not verify with the hub's key %s", ErrAnchorForged, s.KeyID)
	}
	return nil
}

// AnchorSink keeps signed anchors outside the store: an append-only file,
// the system journal. Anchor returns once the anchor is durable there.
type AnchorSink interface {
	Anchor(SignedHead) error
}

// Anchorer signs the chain's head as it moves and hands it to its sinks.
// It never anchors the same head twice or an earlier head after a later
// one, so concurrent commits may all ask and a clock or a caller running
// late cannot move an anchor back.
type Anchorer struct {
	key   ed25519.PrivateKey
	keyID string
	now   func() time.Time
	sinks []AnchorSink

	mu   sync.Mutex
	last Head
}

// NewAnchorer signs with key, named keyID in the hub's key set; last is the
// latest head already anchored (the zero Head if none), now stamps anchors.
func NewAnchorer(key ed25519.PrivateKey, keyID string, now func() time.Time, last Head, sinks ...AnchorSink) *Anchorer {
	return &Anchorer{key: key, keyID: keyID, now: now, sinks: sinks, last: last}
}

// Last is the latest head anchored.
func (a *Anchorer) Last() Head {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// Anchor signs h and writes it to every sink, unless h is not beyond the
// last head anchored. When a sink fails, the head does not count as
// anchored: the next call anchors again, with its newer head.
func (a *Anchorer) Anchor(h Head) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if h.Seq <= a.last.Seq {
		return nil
	}
	s := SignedHead{Head: h, Time: a.now().UTC().Truncate(time.Millisecond), KeyID: a.keyID}
	s.Sig = ed25519.Sign(a.key, s.Message())
	var errs []error
	for _, sink := range a.sinks {
		if err := sink.Anchor(s); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("audit entry %d could not be anchored: %w", h.Seq, errors.Join(errs...))
	}
	a.last = h
	return nil
}

// AnchorLine is one line read back from where anchors are kept.
type AnchorLine struct {
	// Where names the line for a person: "line 12 of /srv/hub/audit-anchors.log".
	Where  string
	Signed SignedHead
	// Err is why the line cannot be read; Signed is then zero.
	Err error
	// Torn marks an unfinished last line (no new-line): one being written
	// while it was read, or cut short by a crash.
	Torn bool
}

// AnchorCheck is what a stream of anchor lines says, checked against the
// hub's keys line by line (Add), so an anchor file of millions of lines is
// checked in bounded memory: every signature is verified, but only some
// anchors are kept for the Verifier. That loses no detection: the anchor
// with the highest number alone shows a cut tail or a rewrite anywhere
// before it (its hash depends on every entry up to it); the others only
// narrow down where a rewrite began. So the recent anchors are all kept,
// and one in every anchorStride before them.
type AnchorCheck struct {
	keys map[string]ed25519.PublicKey

	// Lines is the number of lines added, Valid of those the hub signed.
	Lines, Valid int
	// Last is the anchor with the highest entry number, and where it is.
	Last      SignedHead
	LastWhere string
	// Forged are the first lines (up to maxReported) that read as
	// anchors but whose signature fails: someone wrote them, or changed
	// them, who is not the hub. ForgedN counts them all.
	Forged  []string
	ForgedN int
	// Unreadable are the first lines (up to maxReported) that are not
	// anchors at all; UnreadableN counts them all. They assert nothing, so
	// they cannot make a cut chain pass; a crash can leave one.
	Unreadable  []string
	UnreadableN int

	// Newest is the latest time a valid anchor was signed at: the hub's
	// own signed clock, which ConfirmPruned reads.
	Newest time.Time

	watch        Head       // the anchor Watch asked for
	watched      SignedHead // the line kept for it
	watchedWhere string

	sparse []Anchor // one in every anchorStride valid anchors
	recent []Anchor // the last anchorRecent valid anchors, a ring
	next   int      // where the ring writes next
}

const (
	anchorRecent = 8192
	anchorStride = 1024
	maxReported  = 10
)

// NewAnchorCheck checks anchors against keys (by key id).
func NewAnchorCheck(keys map[string]ed25519.PublicKey) *AnchorCheck {
	return &AnchorCheck{keys: keys}
}

// CheckAnchors checks every line of lines.
func CheckAnchors(lines []AnchorLine, keys map[string]ed25519.PublicKey) *AnchorCheck {
	c := NewAnchorCheck(keys)
	for _, l := range lines {
		c.Add(l)
	}
	return c
}

// Add checks one line.
func (c *AnchorCheck) Add(l AnchorLine) {
	c.Lines++
	if l.Err != nil {
		if c.UnreadableN++; len(c.Unreadable) < maxReported {
			c.Unreadable = append(c.Unreadable, fmt.Sprintf("%s cannot be read (%v)", l.Where, l.Err))
		}
		return
	}
	if err := l.Signed.Check(c.keys); err != nil {
		if c.ForgedN++; len(c.Forged) < maxReported {
			c.Forged = append(c.Forged, fmt.Sprintf("%s (the anchor of entry %d): %s, so it was forged or altered", l.Where,
				l.Signed.Seq, strings.TrimPrefix(err.Error(), ErrAnchorForged.Error()+": ")))
		}
		return
	}
	if l.Signed.Time.After(c.Newest) {
		c.Newest = l.Signed.Time
	}
	c.keepWatched(l.Signed, l.Where)
	a := anchorAt(l.Signed.Head, l.Where)
	if c.Valid%anchorStride == 0 {
		c.sparse = append(c.sparse, a)
	}
	if len(c.recent) < anchorRecent {
		c.recent = append(c.recent, a)
	} else {
		c.recent[c.next] = a
		c.next = (c.next + 1) % anchorRecent
	}
	c.Valid++
	if l.Signed.Seq >= c.Last.Seq {
		c.Last, c.LastWhere = l.Signed, l.Where
	}
}

// anchorAt is the anchor of h read at where, as the Verifier takes it.
func anchorAt(h Head, where string) Anchor { return Anchor{Head: h, Source: "the anchor at " + where} }

// Anchors are the anchors kept for the Verifier, the last among them.
func (c *AnchorCheck) Anchors() []Anchor {
	if c.Valid == 0 {
		return nil
	}
	var out []Anchor
	seen := map[Anchor]bool{}
	for _, a := range slices.Concat(c.sparse, c.recent, []Anchor{anchorAt(c.Last.Head, c.LastWhere)}) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// Err is the first forged line, as an error wrapping ErrAnchorForged; nil
// when every readable line is the hub's.
func (c *AnchorCheck) Err() error {
	switch c.ForgedN {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s", ErrAnchorForged, c.Forged[0])
	}
	return fmt.Errorf("%w: %s (and %d more lines)", ErrAnchorForged, c.Forged[0], c.ForgedN-1)
}
