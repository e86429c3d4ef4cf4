package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/totp"
)

var totpSecret = regexp.MustCompile(`TOTP secret [^:]*: ([A-Z2-7]+)`)

// logInClerk enables a clerk with a password at the demo shop, through the
// serving hub, and logs client c in as that clerk the way a shop without a
// card reader does: the hub takes counter requests only under a clerk.
func logInClerk(t *testing.T, ctx context.Context, c *hubclient.Client, data string) string {
	t.Helper()
	const password = "una password di prova"
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(operators.Rome)
	r := hub(t, "clerk", "add", "--data", data, "--operator", demoShopID, "--cf", "RSSMRA50B17A558W", "--name", "Mario Rossi",
		"--trained", now.AddDate(0, 0, -1).Format("2006-01-02"), "--until", now.AddDate(1, 0, 0).Format("2006-01-02"), "--password-file", pw)
	m := totpSecret.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("hub clerk add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	code, err := operators.TOTPCode(m[1], totp.StepAt(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.LogInClerk(ctx, api.ClerkLogin{CF: "RSSMRA50B17A558W", Password: password, TOTP: code})
	if err != nil {
		t.Fatalf("clerk log-in: %v", err)
	}
	c.SetClerk(s.Token)
	return strings.Fields(r.stdout)[0]
}

// TestClerkCommands: city staff enable, list, suspend and reinstate a clerk
// from the command line while the hub serves; bad input is one sentence
// and a non-zero exit.
func TestClerkCommands(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, data, "127.0.0.1:0")
	c := &hubclient.Client{}
	if _, err := c.Enrol(t.Context(), h.URL, h.Code, "Cassa", hubclient.EnrolOptions{HubCAPEM: h.CAPEM(t)}); err != nil {
		t.Fatalf("enrol: %v", err)
	}
	id := logInClerk(t, t.Context(), c, data)
	if list := hub(t, "clerk", "list", "--data", data, "--operator", demoShopID); !strings.Contains(list.stdout, id) || !strings.Contains(list.stdout, "cie,password") {
		t.Fatalf("hub clerk list:\n%s", list.stdout)
	}
	if r := hub(t, "clerk", "suspend", "--data", data, id); r.code != 2 || !strings.Contains(r.stderr, "--reason") {
		t.Errorf("suspension without a reason: exit %d %s", r.code, r.stderr)
	}
	if r := hub(t, "clerk", "suspend", "--data", data, id, "--reason", "test"); r.code != 0 || !strings.Contains(r.stdout, "suspended") {
		t.Fatalf("hub clerk suspend: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	// The session opened before is refused at once, as suspended.
	_, err := c.Identify(t.Context(), api.IdentifyRequest{Requester: api.RequesterEvidence{Method: api.EvidenceDocument, CF: "RSSMRA50B17A558W", Document: "CA00000AA"}})
	var ae *hubclient.APIError
	if !errors.As(err, &ae) || ae.Reason != api.ReasonClerkSuspended {
		t.Errorf("a look-up under the suspended clerk's session: %v", err)
	}
	if r := hub(t, "clerk", "reinstate", "--data", data, id); r.code != 0 || !strings.Contains(r.stdout, "active") {
		t.Errorf("hub clerk reinstate: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "clerk", "add", "--data", data, "--operator", demoShopID, "--cf", "RSSMRA50B17A558X", "--name", "X", "--trained", "2026-01-01", "--until", "2030-01-01"); r.code != 1 || !strings.Contains(r.stderr, "codice fiscale") {
		t.Errorf("a bad codice fiscale: exit %d %s", r.code, r.stderr)
	}
}
