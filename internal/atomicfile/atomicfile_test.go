package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	tests := []struct {
		data []byte
		perm os.FileMode
	}{{[]byte("first"), 0o600}, {[]byte("second, longer"), 0o644}, {nil, 0o600}}
	for _, tt := range tests {
		if err := Write(path, tt.data, tt.perm); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != string(tt.data) {
			t.Errorf("content %q, %v; want %q", got, err, tt.data)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != tt.perm {
			t.Errorf("mode %v, want %v", st.Mode().Perm(), tt.perm)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := Write(filepath.Join(dir, "no", "such", "dir"), []byte("x"), 0o600); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed write left files: %v", entries)
	}
}

func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.csv")
	if err := Create(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "first" {
		t.Errorf("content %q, %v; want %q", got, err, "first")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	// A kit file written twice would mean two writers in one directory.
	if err := Create(path, []byte("second"), 0o600); err == nil {
		t.Error("creating over an existing file succeeded")
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Errorf("a refused create changed the file to %q", got)
	}
}
