// Package keystore keeps the kiosk's secrets sealed at rest: the device's
// signing key, the outbox key and the print spool key. They are sealed with
// the operating system's credential store where there is one — systemd-creds
// bound to the TPM2 on Linux, DPAPI on Windows — and otherwise under a key
// derived with argon2id from a passphrase the shop's staff type at start.
//
// The profile file (device.json) holds the enrolment's public facts (hub,
// key id, the hub's pinned key) in the clear and the keys only sealed, so a
// copy of the profile folder neither decrypts the outbox and the spool nor
// signs requests as the device.
package keystore

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/hubclient"
)

// ProfileFile is the device's enrolment in the kiosk profile directory.
const ProfileFile = "device.json"

// KeyLen is the length of the outbox and spool keys.
const KeyLen = 32

// format is the profile file's version: 1 (no field) held the device key in
// the clear; 2 holds the keys sealed.
const format = 2

// Keys are the kiosk's secrets.
type Keys struct {
	Device []byte // Ed25519 seed: signs every request to the hub
	Outbox []byte // encrypts personal data waiting in the outbox
	Spool  []byte // encrypts print jobs waiting for a reprint
}

// NewKeys returns fresh outbox and spool keys for a device key; r is
// crypto/rand when nil.
func NewKeys(device []byte, r io.Reader) (Keys, error) {
	if r == nil {
		r = rand.Reader
	}
	k := Keys{Device: device, Outbox: make([]byte, KeyLen), Spool: make([]byte, KeyLen)}
	if _, err := io.ReadFull(r, k.Outbox); err != nil {
		return Keys{}, err
	}
	if _, err := io.ReadFull(r, k.Spool); err != nil {
		return Keys{}, err
	}
	return k, k.check()
}

func (k Keys) check() error {
	if len(k.Device) != ed25519.SeedSize {
		return fmt.Errorf("the device key has %d bytes, not an Ed25519 seed of %d", len(k.Device), ed25519.SeedSize)
	}
	if len(k.Outbox) < KeyLen || len(k.Spool) < KeyLen {
		return fmt.Errorf("the outbox and spool keys must have %d bytes each", KeyLen)
	}
	return nil
}

// Sealed is a secret as the profile file keeps it: which method sealed it,
// what it needs to be opened (the passphrase's KDF parameters), and the
// ciphertext.
type Sealed struct {
	Method string `json:"method"`
	KDF    *KDF   `json:"kdf,omitempty"`
	Data   []byte `json:"data"`
}

// Sealer seals the kiosk's keys with one method.
type Sealer interface {
	Method() string
	Seal(plain []byte) (Sealed, error)
}

// Methods, as the profile file names them.
const (
	MethodSystemdCreds = "systemd-creds"
	MethodDPAPI        = "dpapi"
	MethodPassphrase   = "passphrase"
)

// Secret supplies the staff's passphrase; it is asked only when the
// profile is sealed with one.
type Secret func() ([]byte, error)

// profileFile is device.json. It names its fields one by one, rather than
// marshalling hubclient.Profile, so that no future field of the in-memory
// profile can reach the disk in the clear by accident.
type profileFile struct {
	Format     int       `json:"format"`
	HubURL     string    `json:"hub_url"`
	KeyID      string    `json:"key_id"`
	OperatorID string    `json:"operator_id"`
	Name       string    `json:"name"`
	HubKey     []byte    `json:"hub_key"`
	HubKeyID   string    `json:"hub_key_id,omitempty"`
	HubCAPEM   string    `json:"hub_ca_pem,omitempty"`
	EnrolledAt time.Time `json:"enrolled_at"`
	Sealed     *Sealed   `json:"sealed,omitempty"`
	// LegacyDeviceKey is format 1's device key in the clear: read to
	// migrate, never written.
	LegacyDeviceKey []byte `json:"device_key,omitempty"`
}

// sealedKeys is the plaintext inside Sealed. The key id binds it to its
// profile: sealed keys pasted into another profile's file are refused.
type sealedKeys struct {
	KeyID  string `json:"key_id"`
	Device []byte `json:"device_key"`
	Outbox []byte `json:"outbox_key"`
	Spool  []byte `json:"spool_key"`
}

// ErrNotEnrolled is returned when the profile has no device.json.
var ErrNotEnrolled = errors.New("this kiosk is not enrolled")

// ErrClear is returned by Load for a profile written before the keys were
// sealed (the device key in the clear): Migrate seals it.
var ErrClear = errors.New("the kiosk profile holds its device key in the clear")

// ErrSecret is returned when the passphrase does not open the sealed keys.
var ErrSecret = errors.New("the passphrase does not open the kiosk profile's keys")

// Save writes the enrolment to dir with the keys sealed by s. The file and
// the directory are the kiosk user's only.
func Save(dir string, p *hubclient.Profile, k Keys, s Sealer) error {
	if err := k.check(); err != nil {
		return err
	}
	if !bytes.Equal(p.DeviceKey, k.Device) {
		return errors.New("the profile's device key is not the one being sealed")
	}
	plain, err := json.Marshal(sealedKeys{KeyID: p.KeyID, Device: k.Device, Outbox: k.Outbox, Spool: k.Spool})
	if err != nil {
		return err
	}
	sealed, err := s.Seal(plain)
	clear(plain)
	if err != nil {
		return err
	}
	f := profileFile{Format: format, HubURL: p.HubURL, KeyID: p.KeyID, OperatorID: p.OperatorID, Name: p.Name,
		HubKey: p.HubKey, HubKeyID: p.HubKeyID, HubCAPEM: p.HubCAPEM, EnrolledAt: p.EnrolledAt, Sealed: &sealed}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.PrivateDir(dir); err != nil {
		return fmt.Errorf("cannot create the kiosk profile directory: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, ProfileFile), b, 0o600); err != nil {
		return fmt.Errorf("cannot write the kiosk profile: %w", err)
	}
	return nil
}

// Enrolled reports whether dir holds an enrolment, sealed or not, without
// opening its keys; it returns the key id and hub for messages.
func Enrolled(dir string) (keyID, hubURL string, ok bool) {
	f, err := read(dir)
	if err != nil {
		return "", "", false
	}
	return f.KeyID, f.HubURL, true
}

func read(dir string) (*profileFile, error) {
	path := filepath.Join(dir, ProfileFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: there is no %s in %s (run kiosk enrol)", ErrNotEnrolled, ProfileFile, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the kiosk profile: %w", err)
	}
	var f profileFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("the kiosk profile %s is damaged: %w", path, err)
	}
	if len(f.HubKey) != ed25519.PublicKeySize || f.KeyID == "" || f.HubURL == "" {
		return nil, fmt.Errorf("the kiosk profile %s is incomplete: enrol again", path)
	}
	return &f, nil
}

func (f *profileFile) profile(device []byte) *hubclient.Profile {
	return &hubclient.Profile{HubURL: f.HubURL, KeyID: f.KeyID, OperatorID: f.OperatorID, Name: f.Name, DeviceKey: device,
		HubKey: f.HubKey, HubKeyID: f.HubKeyID, HubCAPEM: f.HubCAPEM, EnrolledAt: f.EnrolledAt}
}

// Load reads the enrolment from dir and opens its keys; secret is called
// only for a profile sealed with a passphrase. A profile with its key in the
// clear is refused with ErrClear: Migrate seals it.
func Load(dir string, secret Secret) (*hubclient.Profile, Keys, error) {
	f, err := read(dir)
	if err != nil {
		return nil, Keys{}, err
	}
	path := filepath.Join(dir, ProfileFile)
	if f.Sealed == nil {
		if len(f.LegacyDeviceKey) > 0 {
			return nil, Keys{}, fmt.Errorf("%w: %s must be sealed before use", ErrClear, path)
		}
		return nil, Keys{}, fmt.Errorf("the kiosk profile %s holds no keys: enrol again", path)
	}
	if f.Format != format || len(f.LegacyDeviceKey) > 0 {
		return nil, Keys{}, fmt.Errorf("the kiosk profile %s has format %d, not %d: enrol again", path, f.Format, format)
	}
	plain, err := Open(*f.Sealed, secret)
	if err != nil {
		return nil, Keys{}, err
	}
	var sk sealedKeys
	err = json.Unmarshal(plain, &sk)
	clear(plain)
	if err != nil {
		return nil, Keys{}, fmt.Errorf("the sealed keys of %s are damaged: %w", path, err)
	}
	if sk.KeyID != f.KeyID {
		return nil, Keys{}, fmt.Errorf("the sealed keys of %s belong to device %s, not %s: enrol again", path, sk.KeyID, f.KeyID)
	}
	k := Keys{Device: sk.Device, Outbox: sk.Outbox, Spool: sk.Spool}
	if err := k.check(); err != nil {
		return nil, Keys{}, fmt.Errorf("the sealed keys of %s: %w", path, err)
	}
	return f.profile(k.Device), k, nil
}

// Method returns the method dir's keys are sealed with: "" for a profile
// with its device key in the clear.
func Method(dir string) (string, error) {
	f, err := read(dir)
	if err != nil {
		return "", err
	}
	if f.Sealed == nil {
		return "", nil
	}
	return f.Sealed.Method, nil
}

// Open opens a sealed secret with the method that sealed it.
func Open(s Sealed, secret Secret) ([]byte, error) {
	switch s.Method {
	case MethodPassphrase:
		if secret == nil {
			return nil, errors.New("the kiosk profile is sealed with a passphrase, and none was given")
		}
		pass, err := secret()
		if err != nil {
			return nil, err
		}
		return openPassphrase(s, pass)
	case MethodSystemdCreds:
		return (&SystemdCreds{}).open(s.Data)
	case MethodDPAPI:
		return dpapiOpen(s.Data)
	}
	return nil, fmt.Errorf("the kiosk profile is sealed with %q, which this kiosk does not know", s.Method)
}

// Migrate seals a profile written with its device key in the clear: the
// outbox keeps the device key as its key, so what it already holds still
// opens; the spool gets a new key. The clear file is replaced, and the
// temporary copies an interrupted save of the old format may have left
// beside it are removed.
func Migrate(dir string, s Sealer) (*hubclient.Profile, Keys, error) {
	f, err := read(dir)
	if err != nil {
		return nil, Keys{}, err
	}
	if f.Sealed != nil {
		return nil, Keys{}, fmt.Errorf("the kiosk profile %s is already sealed", filepath.Join(dir, ProfileFile))
	}
	if len(f.LegacyDeviceKey) != ed25519.SeedSize {
		return nil, Keys{}, fmt.Errorf("the kiosk profile's key has %d bytes, not an Ed25519 seed of %d: enrol again", len(f.LegacyDeviceKey), ed25519.SeedSize)
	}
	k := Keys{Device: f.LegacyDeviceKey, Outbox: f.LegacyDeviceKey, Spool: make([]byte, KeyLen)}
	if _, err := rand.Read(k.Spool); err != nil {
		return nil, Keys{}, err
	}
	p := f.profile(k.Device)
	if err := Save(dir, p, k, s); err != nil {
		return nil, Keys{}, err
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ProfileFile+".*"))
	for _, l := range leftovers {
		if err := os.Remove(l); err != nil {
			return nil, Keys{}, fmt.Errorf("the profile is sealed, but an old clear copy %s could not be removed: %w", l, err)
		}
	}
	return p, k, nil
}

// SetHubKey keeps in dir's profile the hub key p pins now: one the client
// accepted through a hand-over signed by the key pinned before
// (hubclient.Client.OnHubKey), so the next start pins it too. Only the
// public hub key changes; the sealed keys are not opened.
func SetHubKey(dir string, p *hubclient.Profile) error {
	f, err := read(dir)
	if err != nil {
		return err
	}
	if f.KeyID != p.KeyID {
		return fmt.Errorf("the kiosk profile in %s is of device %s, not %s", dir, f.KeyID, p.KeyID)
	}
	if len(p.HubKey) != ed25519.PublicKeySize || p.HubKeyID == "" {
		return errors.New("the new hub key is not an Ed25519 key with its id")
	}
	f.HubKey, f.HubKeyID = p.HubKey, p.HubKeyID
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, ProfileFile), b, 0o600); err != nil {
		return fmt.Errorf("cannot write the kiosk profile: %w", err)
	}
	return nil
}
