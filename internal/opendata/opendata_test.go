package opendata_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/opendata"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

var issued = time.Date(2026, 11, 10, 10, 0, 0, 0, protocol.Rome)

func parse(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Certificates issued in November 2026 give November's file: the six
// certificates of residence at a counter for one district are published,
// the two of another type suppressed (count empty, suppressed true); the
// CSV validates against the published schema, the JSON says the same,
// and the public page lists and serves both.
func TestCertificatesMonth(t *testing.T) {
	d := issuancetest.New(t, 200, 3, issued)
	cfs := d.Identifiable(t, 1)
	ctx := context.Background()
	issue := func(types ...string) {
		t.Helper()
		_, err := d.Issue(ctx, issuance.Request{SubjectCF: cfs[0], Evidence: d.Evidence(t, cfs[0]), Types: types, Channel: certificate.Counter,
			Operator: issuance.Operator{ID: "op"}, Actor: audit.Actor{Kind: audit.Device, ID: "dev-1"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 6 {
		issue("residenza")
	}
	issue("nascita")
	issue("nascita")
	rows, err := opendata.Certificates(ctx, d.Service.Stores, time.Date(2026, 11, 1, 0, 0, 0, 0, protocol.Rome))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows %+v, want two", rows)
	}
	for _, r := range rows {
		switch r.Type {
		case "residenza":
			if r.Suppressed || r.Count == nil || *r.Count != 6 || r.Channel != "counter" || r.Month != "2026-11" || r.District == "" || r.District == "non residente" {
				t.Errorf("residence row %+v", r)
			}
		case "nascita":
			if !r.Suppressed || r.Count != nil {
				t.Errorf("a count of 2 is published: %+v", r)
			}
		default:
			t.Errorf("row %+v", r)
		}
	}
	table := parse(t, opendata.CSV(rows))
	if errs := opendata.TableSchema().Validate(table); errs != nil {
		t.Errorf("the CSV does not validate: %v\n%s", errs, opendata.CSV(rows))
	}
	for _, r := range table[1:] {
		if (r[4] == "") != (r[5] == "true") {
			t.Errorf("row %v: an empty count must be marked suppressed and only then", r)
		}
	}
	var back []map[string]any
	if err := json.Unmarshal(opendata.JSON(rows), &back); err != nil || len(back) != 2 {
		t.Fatalf("JSON %v: %s", err, opendata.JSON(rows))
	}
	// October has nothing.
	if oct, err := opendata.Certificates(ctx, d.Service.Stores, time.Date(2026, 10, 1, 0, 0, 0, 0, protocol.Rome)); err != nil || len(oct) != 0 {
		t.Errorf("October: %v %v", oct, err)
	}

	srv := httptest.NewServer(&opendata.Handler{Store: d.Service.Stores, Now: func() time.Time { return issued.AddDate(0, 1, 0) }})
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get("/opendata/")
	if code != 200 || !strings.Contains(page, `href="2026-11/certificates.csv"`) || !strings.Contains(page, `href="schema.json"`) || strings.Contains(page, "2026-12/") {
		t.Errorf("listing %d:\n%s", code, page)
	}
	code, body := get("/opendata/2026-11/certificates.csv")
	if code != 200 || body != string(opendata.CSV(rows)) {
		t.Errorf("CSV %d:\n%s", code, body)
	}
	code, body = get("/opendata/schema.json")
	var schema opendata.Schema
	if code != 200 || json.Unmarshal([]byte(body), &schema) != nil {
		t.Fatalf("schema %d: %s", code, body)
	}
	if errs := schema.Validate(table); errs != nil {
		t.Errorf("the CSV does not validate against the published schema: %v", errs)
	}
	for _, p := range []string{"/opendata/2026-12/certificates.csv", "/opendata/2026-11/persons.csv", "/opendata/2026-11/certificates.xml", "/opendata/../hub.db"} {
		if code, _ := get(p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
}

// The validator refuses what the schema forbids: a small count
// published, a channel not in the list, a month not YYYY-MM, a
// repeated primary key, a missing required value, a wrong header.
func TestValidateRefuses(t *testing.T) {
	s := opendata.TableSchema()
	head := []string{"month", "district", "channel", "type", "count", "suppressed"}
	good := []string{"2026-11", "20121", "counter", "residenza", "7", "false"}
	if errs := s.Validate([][]string{head, good, {"2026-11", "20121", "counter", "nascita", "", "true"}}); errs != nil {
		t.Fatalf("a good table: %v", errs)
	}
	for name, row := range map[string][]string{
		"small count":   {"2026-11", "20121", "counter", "nascita", "3", "false"},
		"channel":       {"2026-11", "20121", "fax", "nascita", "7", "false"},
		"month":         {"2026-13", "20121", "counter", "nascita", "7", "false"},
		"duplicate key": good,
		"no district":   {"2026-11", "", "counter", "nascita", "7", "false"},
		"not integer":   {"2026-11", "20121", "counter", "nascita", "7.5", "false"},
		"not boolean":   {"2026-11", "20121", "counter", "nascita", "7", "maybe"},
		"short row":     {"2026-11", "20121", "counter"},
	} {
		if errs := s.Validate([][]string{head, good, row}); len(errs) != 1 {
			t.Errorf("%s: %v, want one error", name, errs)
		}
	}
	if errs := s.Validate([][]string{{"month", "district", "channel", "type", "n", "suppressed"}}); errs == nil {
		t.Error("a wrong header validates")
	}
}

// Requests filed in November 2026 give November's requests file: six
// changes of address accepted at a counter for one district are
// published, two DATs still open at a kiosk suppressed, one refused
// declaration of someone not yet resident counted under "non residente"
// (suppressed); requests filed on 31 October and on 1 December (Rome
// time) are not November's. The CSV validates against the schema and the
// public page lists and serves it.
func TestRequestsMonth(t *testing.T) {
	d := issuancetest.New(t, 200, 3, issued)
	cfs := d.Identifiable(t, 2)
	ctx := context.Background()
	n := 0
	file := func(cf string, kind request.Kind, channel string, status request.Status, filed time.Time) {
		t.Helper()
		n++
		rec := &request.Request{ID: fmt.Sprintf("req-%d", n), Kind: kind, Protocol: fmt.Sprintf("2026/%07d", n), SHA256: strings.Repeat("ab", 32),
			Filed: filed, Status: status, Channel: request.Channel(channel), RequesterCF: cf, Persons: []string{cf}}
		if err := d.Service.Stores.Update(ctx, func(tx store.Tx) error { return tx.Requests().Create(rec) }); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 6 {
		file(cfs[0], request.AddressChange, "counter", request.Accepted, issued.Add(time.Duration(i)*time.Hour))
	}
	file(cfs[1], request.DAT, "self_service", request.Filed, issued)
	file(cfs[1], request.DAT, "self_service", request.MoreInfo, issued)
	file("DBSJNE56H14Z110W", request.ResidenceChange, "counter", request.Refused, issued)
	file(cfs[0], request.Historical, "counter", request.Accepted, time.Date(2026, 10, 31, 23, 30, 0, 0, protocol.Rome))
	file(cfs[0], request.Historical, "counter", request.Accepted, time.Date(2026, 12, 1, 0, 30, 0, 0, protocol.Rome))

	rows, err := opendata.Requests(ctx, d.Service.Stores, time.Date(2026, 11, 1, 0, 0, 0, 0, protocol.Rome))
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]opendata.Row{}
	for _, r := range rows {
		if _, dup := byType[r.Type]; dup {
			t.Errorf("two rows of %s: %+v", r.Type, rows)
		}
		byType[r.Type] = r
	}
	if len(rows) != 3 {
		t.Fatalf("rows %+v, want three", rows)
	}
	if r := byType["cambio_indirizzo/accepted"]; r.Suppressed || r.Count == nil || *r.Count != 6 || r.Channel != "counter" || r.Month != "2026-11" || r.District == "" || r.District == "non residente" {
		t.Errorf("address changes: %+v", r)
	}
	if r := byType["dat/open"]; !r.Suppressed || r.Count != nil || r.Channel != "self_service" {
		t.Errorf("DATs: %+v", r)
	}
	if r := byType["cambio_residenza/refused"]; !r.Suppressed || r.District != "non residente" {
		t.Errorf("the refused declaration: %+v", r)
	}
	table := parse(t, opendata.CSV(rows))
	if errs := opendata.TableSchema().Validate(table); errs != nil {
		t.Errorf("the CSV does not validate: %v\n%s", errs, opendata.CSV(rows))
	}

	srv := httptest.NewServer(&opendata.Handler{Store: d.Service.Stores, Now: func() time.Time { return issued.AddDate(0, 1, 0) }})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/opendata/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `href="2026-11/requests.csv"`) || !strings.Contains(string(page), `href="2026-11/requests.json"`) {
		t.Errorf("the listing does not offer the requests:\n%s", page)
	}
	resp, err = http.Get(srv.URL + "/opendata/2026-11/requests.csv")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != string(opendata.CSV(rows)) {
		t.Errorf("requests.csv %d:\n%s", resp.StatusCode, body)
	}
}
