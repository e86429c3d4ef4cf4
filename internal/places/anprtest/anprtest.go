// Package anprtest finds ANPR's reference tables for tests. They live beside
// the repository in shared/data/anpr (CC BY 4.0) and are never copied into it.
package anprtest

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared/data/anpr directory, found by walking up from the
// test's working directory. A missing directory fails the test: CI always
// has it beside the clone.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", "anpr")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no shared/data/anpr directory above the package: the ANPR reference files must sit beside the repository")
		}
		dir = parent
	}
}

// File returns the path of one reference file, failing if it is absent.
func File(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("ANPR reference file %s is missing: %v", name, err)
	}
	return p
}

// Rows returns the records of one reference CSV file below its header line,
// failing if the file is absent, malformed or has no header.
func Rows(tb testing.TB, name string) [][]string {
	tb.Helper()
	f, err := os.Open(File(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("ANPR reference file %s is not valid CSV: %v", name, err)
	}
	if len(rows) == 0 {
		tb.Fatalf("ANPR reference file %s is empty: it should start with a header line", name)
	}
	return rows[1:]
}
