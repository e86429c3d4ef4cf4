package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const testPassword = "una-password-abbastanza-lunga"

func TestStaffCommands(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"add", testPassword + "\n", []string{"staff", "add", "--data", data, "--user", "anna", "--role", "admin", "--name", "Anna Verdi"}, 0, "staff anna added with role admin", ""},
		{"add a second admin", testPassword + "\n", []string{"staff", "add", "--data", data, "--user", "bruno", "--role", "admin"}, 0, "staff bruno added", ""},
		{"add again", testPassword + "\n", []string{"staff", "add", "--data", data, "--user", "anna", "--role", "clerk"}, 1, "", "--replace"},
		{"short password", "breve\n", []string{"staff", "add", "--data", data, "--user", "carla", "--role", "clerk"}, 1, "", "12 to 256 characters"},
		{"no password", "", []string{"staff", "add", "--data", data, "--user", "carla", "--role", "clerk"}, 1, "", "no password on stdin"},
		{"bad user", testPassword + "\n", []string{"staff", "add", "--data", data, "--user", "Carla!", "--role", "clerk"}, 2, "", "--user"},
		{"bad role", testPassword + "\n", []string{"staff", "add", "--data", data, "--user", "carla", "--role", "boss"}, 2, "", "--role"},
		{"disable", "", []string{"staff", "disable", "--data", data, "--user", "anna", "--by", "m.bianchi"}, 0, "staff anna disabled", ""},
		{"list shows it", "", []string{"staff", "list", "--data", data}, 0, "anna\tadmin\tAnna Verdi disabled", ""},
		{"disable twice", "", []string{"staff", "disable", "--data", data, "--user", "anna", "--by", "m.bianchi"}, 1, "", "already disabled"},
		{"the last admin stays", "", []string{"staff", "disable", "--data", data, "--user", "bruno", "--by", "m.bianchi"}, 1, "", "last enabled admin"},
		{"unknown", "", []string{"staff", "disable", "--data", data, "--user", "ghost", "--by", "m.bianchi"}, 1, "", "ghost"},
		{"no user", "", []string{"staff", "disable", "--data", data}, 2, "", "--user"},
		{"enable", "", []string{"staff", "enable", "--data", data, "--user", "anna", "--by", "m.bianchi"}, 0, "staff anna enabled", ""},
		{"no registry", "", []string{"staff", "disable", "--data", t.TempDir(), "--user", "anna", "--by", "x"}, 1, "", "no registry"},
	}
	for _, tt := range tests {
		r := hubIn(t, tt.stdin, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tt.name, r.code, tt.code, r.stdout, r.stderr)
		}
		if tt.code != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("%s: error is not one clear sentence:\n%s", tt.name, r.stderr)
		}
	}
}

// consoleLogin signs in to a hub's console and reports the answer's status.
func consoleLogin(t *testing.T, h *runningHub, user, password string) int {
	t.Helper()
	base := h.URL
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: h.Transport(t), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(b.String())
	if m == nil {
		t.Fatal("the log-in page has no CSRF token")
	}
	resp, err = c.PostForm(base+"/admin/login", url.Values{"csrf": {m[1]}, "user": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestStaffThroughRunningHub adds an account while the hub holds the file
// (the password travels as a hash), signs in with it, and disables it.
func TestStaffThroughRunningHub(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, data, "127.0.0.1:0")
	if r := hubIn(t, testPassword+"\n", "staff", "add", "--data", data, "--user", "dario", "--role", "finance"); r.code != 0 {
		t.Fatalf("staff add through the hub: exit %d: %s", r.code, r.stderr)
	}
	if code := consoleLogin(t, h, "dario", testPassword); code != http.StatusSeeOther {
		t.Fatalf("log-in with the new account: %d", code)
	}
	if r := hub(t, "staff", "disable", "--data", data, "--user", "dario", "--by", "m.bianchi"); r.code != 0 || !strings.Contains(r.stdout, "dario disabled") {
		t.Fatalf("staff disable through the hub: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if code := consoleLogin(t, h, "dario", testPassword); code != http.StatusUnauthorized {
		t.Errorf("log-in with a disabled account: %d, want 401", code)
	}
	if r := hub(t, "staff", "list", "--data", data); !strings.Contains(r.stdout, "dario\tfinance\t disabled") {
		t.Errorf("staff list:\n%s%s", r.stdout, r.stderr)
	}
}
