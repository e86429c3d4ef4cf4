package keystore_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/debtest"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/keystore"
)

const pass = "correct horse battery"

func secret(s string) keystore.Secret { return func() ([]byte, error) { return []byte(s), nil } }

func enrolment(t *testing.T) (*hubclient.Profile, keystore.Keys) {
	t.Helper()
	_, dev, _ := ed25519.GenerateKey(nil)
	hubPub, _, _ := ed25519.GenerateKey(nil)
	p := &hubclient.Profile{HubURL: "https://hub.example.it", KeyID: "dev-7", OperatorID: "op-0001", Name: "Cassa 1",
		DeviceKey: dev.Seed(), HubKey: hubPub, HubKeyID: "hub", EnrolledAt: time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)}
	k, err := keystore.NewKeys(p.DeviceKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, k
}

// cheap keeps the tests quick; the cost parameters travel in the file.
func cheap(pass string) *keystore.Passphrase {
	return &keystore.Passphrase{Secret: []byte(pass), KDF: keystore.KDF{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}}
}

// noKeyOnDisk fails if any file under dir holds a key, raw or in base64 or hex.
func noKeyOnDisk(t *testing.T, dir string, k keystore.Keys) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for name, key := range map[string][]byte{"device": k.Device, "outbox": k.Outbox, "spool": k.Spool} {
			for _, form := range [][]byte{key, []byte(base64.StdEncoding.EncodeToString(key)), []byte(base64.RawURLEncoding.EncodeToString(key)), []byte(hexString(key))} {
				if bytes.Contains(b, form) {
					t.Errorf("%s holds the %s key in the clear", path, name)
				}
			}
		}
		return nil
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestPassphraseRoundTripAndCopy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profile")
	p, k := enrolment(t)
	if err := keystore.Save(dir, p, k, cheap(pass)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, keystore.ProfileFile): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}
	noKeyOnDisk(t, dir, k)

	back, bk, err := keystore.Load(dir, secret(pass))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.DeviceKey, p.DeviceKey) || back.KeyID != p.KeyID || !bytes.Equal(back.HubKey, p.HubKey) || !back.EnrolledAt.Equal(p.EnrolledAt) ||
		!bytes.Equal(bk.Outbox, k.Outbox) || !bytes.Equal(bk.Spool, k.Spool) {
		t.Errorf("loaded %+v %+v", back, bk)
	}
	if m, err := keystore.Method(dir); err != nil || m != keystore.MethodPassphrase {
		t.Errorf("method %q %v", m, err)
	}

	// The folder copied elsewhere, without the passphrase, opens nothing.
	if _, _, err := keystore.Load(dir, secret("wrong horse battery")); !errors.Is(err, keystore.ErrSecret) {
		t.Errorf("wrong passphrase: %v", err)
	}
	if _, _, err := keystore.Load(dir, nil); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("no passphrase: %v", err)
	}
	if _, _, err := keystore.Load(t.TempDir(), nil); !errors.Is(err, keystore.ErrNotEnrolled) {
		t.Errorf("empty profile: %v", err)
	}
	if id, hub, ok := keystore.Enrolled(dir); !ok || id != "dev-7" || hub != p.HubURL {
		t.Errorf("enrolled: %q %q %v", id, hub, ok)
	}
}

func TestPassphraseRules(t *testing.T) {
	p, k := enrolment(t)
	if err := keystore.Save(t.TempDir(), p, k, cheap("short")); err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Errorf("a short passphrase: %v", err)
	}
	// A planted profile cannot make the kiosk spend its memory at start.
	dir := t.TempDir()
	if err := keystore.Save(dir, p, k, cheap(pass)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, keystore.ProfileFile)
	b, _ := os.ReadFile(path)
	var f map[string]any
	json.Unmarshal(b, &f)
	f["sealed"].(map[string]any)["kdf"].(map[string]any)["m"] = 1 << 30
	b, _ = json.Marshal(f)
	os.WriteFile(path, b, 0o600)
	if _, _, err := keystore.Load(dir, secret(pass)); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("planted cost: %v", err)
	}
}

// TestSealedKeysBoundToProfile: sealed keys copied into another
// profile's file (same passphrase, another device) are refused.
func TestSealedKeysBoundToProfile(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	pa, ka := enrolment(t)
	pb, kb := enrolment(t)
	pb.KeyID = "dev-8"
	if err := keystore.Save(a, pa, ka, cheap(pass)); err != nil {
		t.Fatal(err)
	}
	if err := keystore.Save(b, pb, kb, cheap(pass)); err != nil {
		t.Fatal(err)
	}
	var fa, fb map[string]json.RawMessage
	ba, _ := os.ReadFile(filepath.Join(a, keystore.ProfileFile))
	bb, _ := os.ReadFile(filepath.Join(b, keystore.ProfileFile))
	json.Unmarshal(ba, &fa)
	json.Unmarshal(bb, &fb)
	fb["sealed"] = fa["sealed"]
	out, _ := json.Marshal(fb)
	os.WriteFile(filepath.Join(b, keystore.ProfileFile), out, 0o600)
	if _, _, err := keystore.Load(b, secret(pass)); err == nil || !strings.Contains(err.Error(), "belong to device dev-7") {
		t.Errorf("pasted keys: %v", err)
	}
}

// legacyProfile writes device.json as kiosks wrote it before the keys were
// sealed: the device key in the clear, beside a temporary copy an
// interrupted save left.
func legacyProfile(t *testing.T, dir string, p *hubclient.Profile) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(map[string]any{"hub_url": p.HubURL, "key_id": p.KeyID, "operator_id": p.OperatorID, "name": p.Name,
		"device_key": p.DeviceKey, "hub_key": p.HubKey, "hub_key_id": p.HubKeyID, "enrolled_at": p.EnrolledAt}, "", "  ")
	for _, name := range []string{keystore.ProfileFile, keystore.ProfileFile + ".3141592"} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(dir, 0o755)
}

func TestMigrateClearProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kiosk")
	p, _ := enrolment(t)
	legacyProfile(t, dir, p)
	if _, _, err := keystore.Load(dir, secret(pass)); !errors.Is(err, keystore.ErrClear) {
		t.Fatalf("loading a clear profile: %v", err)
	}
	if m, err := keystore.Method(dir); err != nil || m != "" {
		t.Errorf("method of a clear profile %q %v", m, err)
	}
	mp, mk, err := keystore.Migrate(dir, cheap(pass))
	if err != nil {
		t.Fatal(err)
	}
	// The outbox keeps the key it was written with.
	if !bytes.Equal(mp.DeviceKey, p.DeviceKey) || !bytes.Equal(mk.Outbox, p.DeviceKey) || len(mk.Spool) != keystore.KeyLen {
		t.Errorf("migrated keys %+v", mk)
	}
	noKeyOnDisk(t, dir, mk)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != keystore.ProfileFile {
		t.Errorf("after migration the profile holds %v", ents)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, keystore.ProfileFile): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}
	back, bk, err := keystore.Load(dir, secret(pass))
	if err != nil || !bytes.Equal(back.DeviceKey, p.DeviceKey) || !bytes.Equal(bk.Spool, mk.Spool) {
		t.Fatalf("loading the migrated profile: %v", err)
	}
	if _, _, err := keystore.Migrate(dir, cheap(pass)); err == nil {
		t.Error("migrating twice")
	}
}

// TestSystemdCreds seals with the real systemd-creds. Test machines have no
// TPM2, so the host key is used, a private one the test makes through
// SYSTEMD_CREDENTIAL_SECRET; another machine (another host key) does not
// open it. Where has-tpm2 finds a TPM2 the real --with-key=tpm2 is tried
// too; where it finds none, --seal tpm2 is refused, saying why.
func TestSystemdCreds(t *testing.T) {
	debtest.Need(t, "systemd-creds")
	tmp := t.TempDir()
	t.Setenv("SYSTEMD_CREDENTIAL_SECRET", filepath.Join(tmp, "host.secret"))
	dir := filepath.Join(tmp, "profile")
	p, k := enrolment(t)
	if err := keystore.Save(dir, p, k, &keystore.SystemdCreds{WithKey: "host"}); err != nil {
		t.Fatal(err)
	}
	noKeyOnDisk(t, dir, k)
	if m, _ := keystore.Method(dir); m != keystore.MethodSystemdCreds {
		t.Errorf("method %q", m)
	}
	asked := false
	back, bk, err := keystore.Load(dir, func() ([]byte, error) { asked = true; return nil, errors.New("no") })
	if err != nil || asked || !bytes.Equal(back.DeviceKey, p.DeviceKey) || !bytes.Equal(bk.Outbox, k.Outbox) {
		t.Fatalf("loading: %v (passphrase asked: %v)", err, asked)
	}
	t.Setenv("SYSTEMD_CREDENTIAL_SECRET", filepath.Join(tmp, "another-machine.secret"))
	if _, _, err := keystore.Load(dir, nil); err == nil || !strings.Contains(err.Error(), "systemd-creds could not open") {
		t.Errorf("another machine's host key opened it: %v", err)
	}

	sc := &keystore.SystemdCreds{}
	if ok, why := sc.TPM2(); ok {
		t.Log("this machine has a TPM2: sealing to it")
		tdir := filepath.Join(tmp, "tpm2")
		s, note, err := keystore.Choose(keystore.SealTPM2, nil, nil)
		if err != nil {
			t.Fatalf("--seal tpm2 with a TPM2: %v", err)
		}
		if err := keystore.Save(tdir, p, k, s); err != nil {
			t.Fatal(err)
		}
		if _, _, err := keystore.Load(tdir, nil); err != nil {
			t.Fatalf("%s, then: %v", note, err)
		}
	} else {
		t.Logf("no TPM2 here: %s", why)
		if _, _, err := keystore.Choose(keystore.SealTPM2, nil, nil); err == nil || !strings.Contains(err.Error(), "no usable TPM2") ||
			!strings.Contains(err.Error(), "has-tpm2") || !strings.Contains(err.Error(), "--seal passphrase") {
			t.Errorf("--seal tpm2 without a TPM2: %v", err)
		}
		s, note, err := keystore.Choose(keystore.SealAuto, nil, secret(pass))
		if err != nil || s.Method() != keystore.MethodPassphrase || !strings.Contains(note, "has-tpm2") {
			t.Errorf("auto without a TPM2: %v, %q, %v", s, note, err)
		}
	}
}

func TestChoose(t *testing.T) {
	missing := &keystore.SystemdCreds{Bin: filepath.Join(t.TempDir(), "systemd-creds")}
	if _, _, err := keystore.Choose(keystore.SealTPM2, missing, nil); err == nil || !strings.Contains(err.Error(), "systemd-creds is not available") {
		t.Errorf("tpm2 without systemd-creds: %v", err)
	}
	s, note, err := keystore.Choose(keystore.SealAuto, missing, secret(pass))
	if err != nil || s.Method() != keystore.MethodPassphrase || !strings.Contains(note, "not available") {
		t.Errorf("auto without systemd-creds: %v %q %v", s, note, err)
	}
	if _, _, err := keystore.Choose(keystore.SealAuto, missing, secret("short")); err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("auto with a short passphrase: %v", err)
	}
	if _, _, err := keystore.Choose(keystore.SealAuto, missing, nil); err == nil {
		t.Error("auto without a passphrase to fall back on")
	}
	if _, _, err := keystore.Choose(keystore.SealDPAPI, nil, nil); err == nil || !strings.Contains(err.Error(), "only on Windows") {
		t.Errorf("dpapi on Linux: %v", err)
	}
	if _, _, err := keystore.Choose("vault", nil, nil); err == nil || !strings.Contains(err.Error(), "auto, tpm2, dpapi, passphrase") {
		t.Errorf("unknown method: %v", err)
	}
}

func TestSetHubKeyKeepsHandedOverKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profile")
	p, k := enrolment(t)
	if err := keystore.Save(dir, p, k, cheap(pass)); err != nil {
		t.Fatal(err)
	}
	next := *p
	next.HubKey, next.HubKeyID = bytes.Repeat([]byte{7}, 32), "new-hub-key"
	if err := keystore.SetHubKey(dir, &next); err != nil {
		t.Fatal(err)
	}
	back, _, err := keystore.Load(dir, secret(pass))
	if err != nil {
		t.Fatal(err)
	}
	if back.HubKeyID != "new-hub-key" || !bytes.Equal(back.HubKey, next.HubKey) || !bytes.Equal(back.DeviceKey, p.DeviceKey) {
		t.Errorf("after SetHubKey: %+v", back)
	}
	noKeyOnDisk(t, dir, k)
	other := next
	other.KeyID = "dev-other"
	if err := keystore.SetHubKey(dir, &other); err == nil {
		t.Error("another device's profile took the hub key")
	}
}
