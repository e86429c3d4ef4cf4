package api

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/operators"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestWireFormat pins the JSON of every body: kiosks in the field and
// outboxes on their disks hold these names, so a renamed field or tag shows
// here as a diff to the golden file before it breaks them.
func TestWireFormat(t *testing.T) {
	at := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	fee := 200
	var hours operators.Hours
	hours.Week.Set(time.Monday, operators.Interval{Open: 7 * 60, Close: 19 * 60})
	bodies := []struct {
		name string
		v    any
	}{
		{"problem", Problem{Reason: "not_found", Message: "no person holds a CIE with this NIS"}},
		{"health", Health{Status: "ok", Version: "v1.2.3", Persons: 1200, UptimeSeconds: 60}},
		{"health_degraded", Health{Status: StatusDegraded, Version: "v1.2.3", Persons: 1200, UptimeSeconds: 60, Reason: ReasonStorageFull,
			Message: "the hub's storage is full: nothing can be stored until space is freed", Since: &at}},
		{"enrol_request", EnrolRequest{Code: "ABCD-EFGH", PublicKey: "MCowBQYDK2VwAyEA", Name: "Cassa 1"}},
		{"enrolment", Enrolment{KeyID: "dev-0001", OperatorID: "op-0001", HubKey: "MCowBQYDK2VwAyEA", HubKeyID: "hub-1"}},
		{"device", Device{KeyID: "dev-0001", Name: "Cassa 1", Status: "active", OperatorID: "op-0001", OperatorName: "Edicola Loreto",
			OperatorStatus: "active", FeeCents: 200, Types: []string{"residenza"}, MayIssue: false, Why: "the agreement has expired",
			Offline: &operators.OfflineLimits{OperationCents: 5000, TotalCents: 50000, Count: 100, AgeHours: 24}}},
		{"backlog", Backlog{Pending: 2, Refused: 1, OldestAgeSeconds: 3600, AmountCents: 3704}},
		{"device_status", DeviceStatus{KeyID: "dev-0001", Backlog: Backlog{Pending: 2, OldestAgeSeconds: 3600, AmountCents: 3704}, Reported: at}},
		{"directory", Directory{At: at, Near: operators.Point{Lat: 45.4642, Lon: 9.19}, Results: []DirectoryEntry{{
			ID: "op-0001", Name: "Edicola Loreto", Category: operators.Edicola, CategoryLabel: "Edicola", Address: "Piazzale Loreto 1, 20131 Milano",
			Lat: 45.4857, Lon: 9.2163, DistanceM: 2710, Open: true, Hours: hours,
			Today:   DirectoryDay{Date: "2026-04-07", Spans: []operators.Interval{{Open: 7 * 60, Close: 19 * 60}}},
			Transit: operators.Transit{Metro: []string{"M1", "M2"}, Stop: "Loreto"}, FeeCents: &fee, Types: []string{"residenza"}}}}},
		{"certificate_request", CertificateRequest{CF: "RSSMRA50B17A558W", Types: []string{"residenza"}, Exemption: fees.Exemption{Code: 99, Text: "art. 1"},
			Requester: &RequesterEvidence{Method: EvidenceDocument, CF: "RSSMRA50B17A558W", Document: "CA00000AA"}, Channel: ChannelCounter, IdempotencyKey: "never in the body"}},
		{"identify_request", IdentifyRequest{Channel: ChannelSelfService, Requester: RequesterEvidence{Method: EvidenceCIE, NIS: "012345678901",
			Kpub: []byte{0x30, 0x82}, SOD: []byte{0x30, 0x80}, TapNonce: make([]byte, 16), TappedAt: at, Response: []byte{0x01, 0x02}, PINProved: true}}},
		{"certificate", Certificate{ID: "c-1", Protocol: "2026/0000001", Title: "Certificato di residenza", Types: []string{"residenza"},
			Fees: []fees.Line{{Kind: fees.Bollo, Label: "Imposta di bollo", Cents: 1600}}, TotalCents: 1600,
			PDFURL: "/api/v1/certificates/c-1/pdf", VerifyURL: "https://hub.example/v/c-1", Issued: at}},
		{"person", Person{CF: "RSSMRA50B17A558W", Surname: "ROSSI", GivenNames: "MARIO", BirthDate: "1950-02-17",
			Family: []FamilyMember{{CF: "MRTMRA83T56A269B", Surname: "MARTINI", GivenNames: "MARIA", BirthDate: "1983-12-16", Relationship: 2}}}},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			got, err := json.MarshalIndent(b.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", b.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s changed:\n got %s\nwant %s", b.name, got, want)
			}
		})
	}
}
