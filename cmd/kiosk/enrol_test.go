package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnrolRefusesPlainHTTP: enrolment sends the one-time code and the
// device's new key, and every later request follows the same URL, so a
// plain http:// hub is refused unless it is on this machine; the refusal
// spends no code and writes no profile.
func TestEnrolRefusesPlainHTTP(t *testing.T) {
	const passphrase = "una frase lunga abbastanza per il test\n"
	for _, hub := range []string{"http://hub.example.it", "http://192.0.2.10:8080", "HTTP://[2001:db8::1]/", "http://localhost.example.it", "http://127.0.0.1.nip.io:8080"} {
		profile := filepath.Join(t.TempDir(), "profile")
		code, stdout, stderr := runKioskIn(t, passphrase, "enrol", "--hub", hub, "--code", "ABCD-EFGH", "--profile", profile, "--seal", "passphrase", "--secret-stdin")
		if code != 2 || !strings.Contains(stderr, "https://") || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 asking for https://", hub, code, stdout, stderr)
		}
		if _, err := os.Stat(profile); err == nil {
			t.Errorf("%s: the refused enrolment made the profile directory", hub)
		}
	}
	// On this machine plain HTTP never crosses a network: the URL passes and
	// the enrolment fails later, only because nothing listens there.
	for _, hub := range []string{"http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"} {
		code, _, stderr := runKioskIn(t, passphrase, "enrol", "--hub", hub, "--code", "ABCD-EFGH", "--profile", filepath.Join(t.TempDir(), "p"), "--seal", "passphrase", "--secret-stdin")
		if code != 1 || strings.Contains(stderr, "https://") {
			t.Errorf("%s: exit %d, stderr %q; want the loopback URL accepted and the connection to fail", hub, code, stderr)
		}
	}
}
