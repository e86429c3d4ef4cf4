package seal_test

import (
	"encoding/json"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// qrVersion is the QR version the renderer's settings (level M) give.
func qrVersion(t *testing.T, content string) int {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	return q.VersionNumber
}
