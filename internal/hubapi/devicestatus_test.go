package hubapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/operators"
)

func (f *devFixture) put(t *testing.T, d device, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("PUT", f.srv.URL+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "status-"+time.Now().Format("150405.000000000"))
	if err := f.signer(d).SignRequest(req, []byte(body)); err != nil {
		t.Fatal(err)
	}
	return f.do(t, req)
}

func TestDeviceStatusReport(t *testing.T) {
	f := newDevFixture(t)
	d := f.enrol(t, f.shop.ID)
	other := f.enrol(t, f.addShop(t, "Tabacchi Centrale", 45.46, 9.19, operators.Active).ID)
	const path = "/api/v1/devices/self/status"
	tests := []struct {
		name   string
		dev    device
		body   string
		status int
		reason string
		stored string // the device's stored report afterwards, as "pending/refused/age/amount"
	}{
		{"three queued for 40 minutes", d, `{"pending":3,"refused":1,"oldest_age_seconds":2400,"amount_cents":5406}`, 200, "", "3/1/40m0s/5406"},
		{"drained", d, `{"pending":0,"refused":1,"oldest_age_seconds":0,"amount_cents":0}`, 200, "", "0/1/0s/0"},
		{"not JSON", d, `pending=3`, 400, "bad_request", "0/1/0s/0"},
		{"a field the hub does not know", d, `{"pending":1,"backlog":"large"}`, 400, "bad_request", "0/1/0s/0"},
		{"negative amount", d, `{"pending":1,"oldest_age_seconds":5,"amount_cents":-100}`, 400, "implausible_backlog", "0/1/0s/0"},
		{"age from a broken clock", d, `{"pending":1,"oldest_age_seconds":99999999999}`, 400, "implausible_backlog", "0/1/0s/0"},
		{"money without a queue", d, `{"pending":0,"amount_cents":200}`, 400, "implausible_backlog", "0/1/0s/0"},
		{"92 quadrillion euro", d, `{"pending":1,"oldest_age_seconds":60,"amount_cents":9223372036854775807}`, 400, "implausible_backlog", "0/1/0s/0"},
		{"more than a thousand euro an operation", d, `{"pending":3,"oldest_age_seconds":60,"amount_cents":300001}`, 400, "implausible_backlog", "0/1/0s/0"},
		{"more queued than a kiosk holds", d, `{"pending":4611686018427387904,"oldest_age_seconds":60,"amount_cents":1}`, 400, "implausible_backlog", "0/1/0s/0"},
		{"more refused than a kiosk holds", d, `{"pending":0,"refused":10001}`, 400, "implausible_backlog", "0/1/0s/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.add(time.Minute)
			resp, body := f.put(t, tt.dev, path, tt.body)
			if resp.StatusCode != tt.status || (tt.reason != "" && reasonOf(body) != tt.reason) {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, body, tt.status, tt.reason)
			}
			b, err := f.ops.Backlog(d.keyID)
			if err != nil || b == nil {
				t.Fatalf("stored backlog %+v, %v", b, err)
			}
			if got := fmtBacklog(b.Pending, b.Refused, b.OldestAge, b.AmountCents); got != tt.stored {
				t.Errorf("stored %s, want %s", got, tt.stored)
			}
			if tt.status == 200 {
				var v api.DeviceStatus
				if err := json.Unmarshal(body, &v); err != nil || v.KeyID != d.keyID || !v.Reported.Equal(f.clock.now()) || !b.Reported.Equal(f.clock.now()) {
					t.Errorf("answer %s (%v); stored at %s, hub time %s", body, err, b.Reported, f.clock.now())
				}
			}
		})
	}
	if b, _ := f.ops.Backlog(other.keyID); b != nil {
		t.Errorf("another device's report was written: %+v", b)
	}
	// A report is a contact: the console's last contact moves with it.
	f.clock.add(time.Hour)
	if resp, body := f.put(t, other, path, `{"pending":0}`); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if dev, _ := f.ops.Device(other.keyID); !dev.LastContact.Equal(f.clock.now()) {
		t.Errorf("last contact %s, want %s", dev.LastContact, f.clock.now())
	}
	// Only the device itself reports, and only while it may sign.
	req, _ := http.NewRequest("PUT", f.srv.URL+path, bytes.NewReader([]byte(`{"pending":9}`)))
	if resp, body := f.do(t, req); resp.StatusCode != 401 {
		t.Errorf("unsigned report: %d %s", resp.StatusCode, body)
	}
	if _, err := f.ops.RevokeDevice(d.keyID, "staff", "stolen"); err != nil {
		t.Fatal(err)
	}
	if resp, body := f.put(t, d, path, `{"pending":9,"oldest_age_seconds":1,"amount_cents":1}`); resp.StatusCode != 403 || reasonOf(body) != "key_revoked" {
		t.Errorf("revoked device's report: %d %s", resp.StatusCode, body)
	}
}

func fmtBacklog(pending, refused int, age time.Duration, cents int64) string {
	return fmt.Sprintf("%d/%d/%s/%d", pending, refused, age, cents)
}
