package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/opendata"
	"github.com/sportello/sportello/internal/protocol"
)

// The demo hub serves its open-data listing and schema publicly, and hub
// opendata export writes a month's files, which validate against the
// schema.json written beside them.
func TestOpenDataExportAndPage(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, data, "127.0.0.1:0")
	client := &http.Client{Transport: h.Transport(t)}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(h.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	last := time.Now().In(protocol.Rome).AddDate(0, -1, 0).Format("2006-01")
	if code, page := get("/opendata/"); code != 200 || !strings.Contains(page, last+"/certificates.csv") {
		t.Errorf("listing %d:\n%s", code, page)
	}
	if code, body := get("/opendata/schema.json"); code != 200 || !strings.Contains(body, `"primaryKey"`) {
		t.Errorf("schema %d: %s", code, body)
	}
	h.stop(t)

	out := t.TempDir()
	month := time.Now().In(protocol.Rome).Format("2006-01") // the demo's certificates are this month's
	r := hub(t, "opendata", "export", "--data", data, "--month", month, "--out", out)
	if r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema opendata.Schema
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	for _, name := range opendata.Datasets {
		f, err := os.Open(filepath.Join(out, month, name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if errs := schema.Validate(rows); errs != nil {
			t.Errorf("%s: %v", name, errs)
		}
		if _, err := os.Stat(filepath.Join(out, month, name+".json")); err != nil {
			t.Error(err)
		}
	}
	if r := hub(t, "opendata", "export", "--data", data, "--month", "2026-13", "--out", out); r.code == 0 {
		t.Error("month 13 exported")
	}
}
