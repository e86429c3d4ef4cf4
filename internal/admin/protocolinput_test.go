package admin

import (
	"testing"

	"github.com/sportello/sportello/internal/protocol"
)

// TestParseProtocolInput: a clerk finds a certificate by the number as
// printed, with the register's codes, or by year and progressive alone.
func TestParseProtocolInput(t *testing.T) {
	reg := protocol.Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERT"}
	for in, want := range map[string]protocol.Number{
		"c_f205.A1B2C3D.CERT.2026/0000123": {Register: reg, Year: 2026, Seq: 123},
		" 2026/0000123 ":                   {Year: 2026, Seq: 123},
		"2026/123":                         {Year: 2026, Seq: 123},
		"c_f205.A1B2C3D.CERT.2026/123":     {Year: 2026, Seq: 123},
	} {
		if got, err := parseProtocolInput(in); err != nil || got != want {
			t.Errorf("parseProtocolInput(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"/", "2026", "c_f205.A1B2C3D.CERT.2026", "26/1", "2026/0"} {
		if _, err := parseProtocolInput(bad); err == nil {
			t.Errorf("parseProtocolInput(%q) accepted", bad)
		}
	}
}
