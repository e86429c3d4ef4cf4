package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var created = time.Date(2026, 12, 5, 22, 0, 0, 0, time.UTC)

func sample(t *testing.T, withKeys bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, Manifest{City: "F205", Version: "1.2.3", Created: created, Backend: "bolt"})
	if err := w.AddBytes("data/hub.db", []byte("the records")); err != nil {
		t.Fatal(err)
	}
	if err := w.AddBytes("data/pdf/ab/cdef", []byte("%PDF-1.7 …")); err != nil {
		t.Fatal(err)
	}
	if withKeys {
		if err := w.AddKeys(map[string][]byte{"keys/seal-key.pem": []byte("secret"), "tls/key.pem": []byte("tls")}, []byte("correct horse")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	b := sample(t, true)
	dir := t.TempDir()
	m, err := Extract(bytes.NewReader(b), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.City != "F205" || m.Version != "1.2.3" || !m.Created.Equal(created) || len(m.Members) != 3 || m.Keys == nil {
		t.Fatalf("manifest %+v", m)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "data", "pdf", "ab", "cdef")); string(got) != "%PDF-1.7 …" {
		t.Fatalf("pdf member: %q", got)
	}
	sealed, _ := os.ReadFile(filepath.Join(dir, KeysName))
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("the keys are stored in the clear")
	}
	keys, err := OpenKeys(m, sealed, []byte("correct horse"))
	if err != nil || string(keys["keys/seal-key.pem"]) != "secret" || string(keys["tls/key.pem"]) != "tls" {
		t.Fatalf("keys %v, %v", keys, err)
	}
	if _, err := OpenKeys(m, sealed, []byte("wrong horse")); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	// Sealed keys moved into a backup of another city do not open.
	other := m
	other.City = "H501"
	if _, err := OpenKeys(other, sealed, []byte("correct horse")); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("keys under another city: %v", err)
	}
}

func TestCityCheck(t *testing.T) {
	wantCity := func(m Manifest) error {
		if m.City != "H501" {
			return ErrCity
		}
		return nil
	}
	if _, err := Extract(bytes.NewReader(sample(t, false)), t.TempDir(), wantCity); !errors.Is(err, ErrCity) {
		t.Fatalf("got %v", err)
	}
}

// rewrite copies a backup, letting edit change each member's content.
func rewrite(t *testing.T, b []byte, edit func(name string, content []byte) []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	ogz := gzip.NewWriter(&out)
	tw := tar.NewWriter(ogz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(tr)
		c = edit(h.Name, c)
		if c == nil {
			continue
		}
		h.Size = int64(len(c))
		tw.WriteHeader(h)
		tw.Write(c)
	}
	tw.Close()
	ogz.Close()
	return out.Bytes()
}

func TestChecksumRefusals(t *testing.T) {
	b := sample(t, true)
	cases := map[string][]byte{
		"member changed": rewrite(t, b, func(name string, c []byte) []byte {
			if name == "data/hub.db" {
				c = append([]byte(nil), c...)
				c[0] ^= 1
			}
			return c
		}),
		"member dropped": rewrite(t, b, func(name string, c []byte) []byte {
			if name == "data/pdf/ab/cdef" {
				return nil
			}
			return c
		}),
		"no manifest": rewrite(t, b, func(name string, c []byte) []byte {
			if name == ManifestName {
				return nil
			}
			return c
		}),
		"cut short":   b[:len(b)/2],
		"not gzipped": []byte("hello"),
	}
	for name, bad := range cases {
		if _, err := Extract(bytes.NewReader(bad), t.TempDir(), nil); !errors.Is(err, ErrChecksum) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestNamesStayInside(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Manifest{City: "F205", Created: created})
	for _, name := range []string{"../x", "/etc/passwd", "a/../../x", ManifestName, ""} {
		if err := w.AddBytes(name, []byte("x")); err == nil {
			t.Errorf("%q accepted", name)
		}
	}
	// A crafted file with a name leading out is refused on extraction.
	var out bytes.Buffer
	gz := gzip.NewWriter(&out)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "../escape", Size: 1, Mode: 0o600, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	gz.Close()
	parent := t.TempDir()
	dir := filepath.Join(parent, "in")
	os.Mkdir(dir, 0o700)
	if _, err := Extract(&out, dir, nil); !errors.Is(err, ErrChecksum) {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(parent, "escape")); err == nil {
		t.Fatal("a member was written outside the directory")
	}
}

// TestKeysVouchForTheMembers: whoever can rewrite a backup can change a
// member and its line in the manifest so every checksum agrees; with the
// keys in it, the keys then refuse to open, so restore refuses it.
func TestKeysVouchForTheMembers(t *testing.T) {
	b := sample(t, true)
	var changedSum string
	forged := rewrite(t, b, func(name string, c []byte) []byte {
		if name == "data/hub.db" {
			c = []byte("other records")
			sum := sha256.Sum256(c)
			changedSum = hex.EncodeToString(sum[:])
		}
		return c
	})
	// rewrite keeps the old manifest: put the forged member's checksum in it.
	forged = rewrite(t, forged, func(name string, c []byte) []byte {
		if name != ManifestName {
			return c
		}
		var m Manifest
		if err := json.Unmarshal(c, &m); err != nil {
			t.Fatal(err)
		}
		for i := range m.Members {
			if m.Members[i].Name == "data/hub.db" {
				m.Members[i].SHA256, m.Members[i].Size = changedSum, int64(len("other records"))
			}
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
	dir := t.TempDir()
	m, err := Extract(bytes.NewReader(forged), dir, nil)
	if err != nil {
		t.Fatalf("the forged backup's checksums should agree (that is the attack): %v", err)
	}
	sealed, err := os.ReadFile(filepath.Join(dir, KeysName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeys(m, sealed, []byte("correct horse")); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("keys of a backup changed after it was written: %v, want a refusal", err)
	}
	// Nothing may follow the keys, which vouch only for what came before.
	w := NewWriter(io.Discard, Manifest{City: "F205", Created: created})
	if err := w.AddKeys(map[string][]byte{"keys/k": []byte("k")}, []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	if err := w.AddBytes("data/late", []byte("x")); err == nil {
		t.Error("a member after the keys was accepted")
	}
}
