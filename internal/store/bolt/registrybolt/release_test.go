package registrybolt

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// The release that opens a file to write is recorded in it; a file of a
// later format is refused with a sentence naming the release that wrote it
// and this one, and is left unchanged.
func TestNewerFormatRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	st, err := Open(path, Options{Release: "1.4.0"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Open(path, Options{Release: "1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := st.Release(); err != nil || r != "1.5.0" {
		t.Fatalf("release recorded: %q, %v; want 1.5.0", r, err)
	}
	// A later release moves the file to the next format.
	if err := st.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyVersion, []byte(strconv.Itoa(FormatVersion+1))); err != nil {
			return err
		}
		return meta.Put(keyRelease, []byte("2.0.0"))
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for _, readOnly := range []bool{false, true} {
		st, err = Open(path, Options{Release: "1.5.0", ReadOnly: readOnly})
		if !errors.Is(err, ErrVersion) {
			if err == nil {
				st.Close()
			}
			t.Fatalf("Open(newer format, read-only %v) = %v, want ErrVersion", readOnly, err)
		}
		for _, want := range []string{"written by Sportello 2.0.0", "Sportello 1.5.0 reads format " + strconv.Itoa(FormatVersion), "refuses to start"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal %q does not say %q", err, want)
			}
		}
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bbolt.Tx) error {
		if r := string(tx.Bucket(bucketMeta).Get(keyRelease)); r != "2.0.0" {
			t.Errorf("the refused open recorded its release: %q", r)
		}
		return nil
	})
}
