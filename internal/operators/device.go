package operators

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// DeviceStatus is whether a device's key is still accepted.
type DeviceStatus string

// Device statuses. Revocation is final: a replaced till enrols again. A
// suspension is not: the hub suspends a device that went past a second
// threshold of the limits (package limits) and staff reinstate it after a
// review.
const (
	DeviceActive    DeviceStatus = "active"
	DeviceSuspended DeviceStatus = "suspended"
	DeviceRevoked   DeviceStatus = "revoked"
)

// Device is a kiosk or counter PC enrolled for an operator. Its private key
// never leaves it; the hub keeps the public key under KeyID.
type Device struct {
	KeyID       string            `json:"key_id"`
	OperatorID  string            `json:"operator_id"`
	Name        string            `json:"name"`
	PublicKey   ed25519.PublicKey `json:"public_key"`
	EnrolledAt  time.Time         `json:"enrolled_at"`
	LastContact time.Time         `json:"last_contact,omitzero"`
	Status      DeviceStatus      `json:"status"`
	Revoked     *Change           `json:"revoked,omitempty"`
	// History are the device's suspensions and reinstatements, oldest
	// first: who, when and why.
	History []Change `json:"history,omitempty"`
}

// KeyIDFor derives a device's key id from its public key, so the same key
// can never be enrolled twice under different ids.
func KeyIDFor(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "dev-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:10]))
}

// MaxDeviceName bounds the name a kiosk gives itself.
const MaxDeviceName = 80

// NewDevice enrols pub for operator op at instant at. Only an approved or
// active operator may enrol devices: a shop sets up its kiosk between
// approval and going live.
func NewDevice(op *Operator, pub []byte, name string, at time.Time) (*Device, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: the public key has %d bytes; an Ed25519 public key has %d", ErrInvalid, len(pub), ed25519.PublicKeySize)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "kiosk"
	}
	if len(name) > MaxDeviceName || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("%w: a device name is at most %d printable characters", ErrInvalid, MaxDeviceName)
	}
	if op.Status != Approved && op.Status != Active {
		return nil, fmt.Errorf("%w: operator %s is %s; devices are enrolled only for approved or active operators", ErrTransition, op.ID, op.Status)
	}
	key := ed25519.PublicKey(append([]byte(nil), pub...))
	return &Device{
		KeyID: KeyIDFor(key), OperatorID: op.ID, Name: name, PublicKey: key,
		EnrolledAt: at.UTC(), Status: DeviceActive,
	}, nil
}

// Revoke switches the device off for good.
func (d *Device) Revoke(at time.Time, by, reason string) error {
	if d.Status == DeviceRevoked {
		return fmt.Errorf("%w: device %s is already revoked", ErrTransition, d.KeyID)
	}
	from := d.Status
	if strings.TrimSpace(by) == "" || strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: say who revokes device %s and why", ErrTransition, d.KeyID)
	}
	d.Status = DeviceRevoked
	d.Revoked = &Change{At: at.UTC(), By: by, From: Status(from), To: Status(DeviceRevoked), Reason: reason}
	return nil
}

// Suspend stops the device until staff reinstate it.
func (d *Device) Suspend(at time.Time, by, reason string) error {
	return d.move(DeviceActive, DeviceSuspended, at, by, reason, "say who suspends device %s and why")
}

// Reinstate lets a suspended device sign requests again, with staff's note
// of what their review found.
func (d *Device) Reinstate(at time.Time, by, note string) error {
	return d.move(DeviceSuspended, DeviceActive, at, by, note, "say who reinstates device %s and what the review found")
}

// move changes a device from status from to status to, recording who did
// it and why in its history; both are required, and missing (one %s, the
// key id) says so.
func (d *Device) move(from, to DeviceStatus, at time.Time, by, reason, missing string) error {
	if d.Status != from {
		return fmt.Errorf("%w: device %s is %s, not %s", ErrTransition, d.KeyID, d.Status, from)
	}
	if strings.TrimSpace(by) == "" || strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: "+missing, ErrTransition, d.KeyID)
	}
	d.Status = to
	d.History = append(d.History, Change{At: at.UTC(), By: by, From: Status(from), To: Status(to), Reason: reason})
	return nil
}

// Enrolment code errors.
var (
	ErrCodeUnknown = errors.New("enrolment code not recognised")
	ErrCodeUsed    = errors.New("enrolment code already used")
	ErrCodeExpired = errors.New("enrolment code expired")
)

// DefaultCodeTTL is how long an enrolment code stays usable: a working day
// for staff to hand it over and the shop to type it.
const DefaultCodeTTL = 24 * time.Hour

// codeAlphabet is Crockford's base 32: no I, L, O or U, so a code read
// aloud over the phone or copied from paper survives.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var codeEncoding = base32.NewEncoding(codeAlphabet).WithPadding(base32.NoPadding)

// EnrolmentCode is the hub's record of a one-time code. Only the code's
// hash is kept, so a copy of the database enrols nothing.
type EnrolmentCode struct {
	Hash       string    `json:"hash"`
	OperatorID string    `json:"operator_id"`
	IssuedBy   string    `json:"issued_by"`
	IssuedAt   time.Time `json:"issued_at"`
	Expires    time.Time `json:"expires"`
	UsedAt     time.Time `json:"used_at,omitzero"`
	UsedBy     string    `json:"used_by,omitempty"` // the key id enrolled with it
}

// NewEnrolmentCode makes a code for operator op: 80 random bits written
// XXXX-XXXX-XXXX-XXXX. It returns the code to hand to the shop and the
// record to store. r is crypto/rand when nil; ttl is DefaultCodeTTL when 0.
func NewEnrolmentCode(r io.Reader, op *Operator, by string, at time.Time, ttl time.Duration) (string, EnrolmentCode, error) {
	if strings.TrimSpace(by) == "" {
		return "", EnrolmentCode{}, fmt.Errorf("%w: say who issues the enrolment code", ErrInvalid)
	}
	if op.Status != Approved && op.Status != Active {
		return "", EnrolmentCode{}, fmt.Errorf("%w: operator %s is %s; enrolment codes are issued only for approved or active operators", ErrTransition, op.ID, op.Status)
	}
	if ttl < 0 {
		return "", EnrolmentCode{}, fmt.Errorf("%w: an enrolment code cannot expire before it is issued", ErrInvalid)
	}
	if ttl == 0 {
		ttl = DefaultCodeTTL
	}
	if r == nil {
		r = rand.Reader
	}
	var b [10]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", EnrolmentCode{}, fmt.Errorf("cannot read random bytes for an enrolment code: %w", err)
	}
	raw := codeEncoding.EncodeToString(b[:])
	code := raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
	return code, EnrolmentCode{
		Hash: HashCode(code), OperatorID: op.ID, IssuedBy: by,
		IssuedAt: at.UTC(), Expires: at.Add(ttl).UTC(),
	}, nil
}

// NormaliseCode reads a code as typed: case, dashes and spaces do not
// matter, and the letters Crockford's alphabet leaves out read as the digits
// they look like.
func NormaliseCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch r {
		case '-', ' ', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// HashCode is the stored form of a code. The code carries 80 random bits,
// so a plain SHA-256 cannot be reversed by guessing.
func HashCode(code string) string {
	sum := sha256.Sum256([]byte("sportello enrolment code\x00" + NormaliseCode(code)))
	return hex.EncodeToString(sum[:])
}

// Matches reports whether code is this record's code.
func (c *EnrolmentCode) Matches(code string) bool {
	return subtle.ConstantTimeCompare([]byte(HashCode(code)), []byte(c.Hash)) == 1
}

// Redeem uses the code at instant at to enrol keyID. It fails if the code
// was used already or has expired.
func (c *EnrolmentCode) Redeem(at time.Time, keyID string) error {
	if !c.UsedAt.IsZero() {
		return fmt.Errorf("%w: it enrolled a device on %s; ask city staff for a new one", ErrCodeUsed, c.UsedAt.In(Rome).Format("2006-01-02 15:04"))
	}
	if !at.Before(c.Expires) {
		return fmt.Errorf("%w: it was valid until %s; ask city staff for a new one", ErrCodeExpired, c.Expires.In(Rome).Format("2006-01-02 15:04"))
	}
	c.UsedAt, c.UsedBy = at.UTC(), keyID
	return nil
}
