package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/loadgen"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/postgres"
)

// copyTree copies the files under src to dst (the city's keys and the
// demo's TLS certificate, which every hub of a city shares).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTwoHubsOnePostgres: two hub serve processes on one PostgreSQL
// database, driven at once by hub loadtest with kiosks spread across
// them, issue into ONE protocol register with no gap and no duplicate
// (numbers are allocated in the database), and a signed request one hub
// accepted is refused as a replay by the other (nonces are shared).
func TestTwoHubsOnePostgres(t *testing.T) {
	conn := pg.Database(t)
	dirA, dirB, pdfs := t.TempDir(), t.TempDir(), t.TempDir()
	a := startServe(t, "--demo", "--db", conn, "--data", dirA, "--pdf-dir", pdfs, "--addr", "127.0.0.1:0")
	// The second hub is the same city: its seal and token keys, and the
	// certificate its clients trust, are the first one's.
	copyTree(t, filepath.Join(dirA, "keys"), filepath.Join(dirB, "keys"))
	copyTree(t, filepath.Join(dirA, "tls"), filepath.Join(dirB, "tls"))
	marker, err := os.ReadFile(filepath.Join(dirA, demoMarker))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirB, demoMarker), marker, 0o600); err != nil {
		t.Fatal(err)
	}
	b := startServe(t, "--demo", "--db", conn, "--data", dirB, "--pdf-dir", pdfs, "--addr", "127.0.0.1:0")

	env := []string{"SPORTELLO_DB=" + conn}
	r := hubEnv(t, "", env, "loadtest", "--hub", a.URL, "--hub", b.URL, "--data", dirA, "--kiosks", "4", "--people", "10",
		"--max-requests", "160", "--duration", "3m", "--mix", "lookup=1,issue=3,retry=1,refusal=1,burst=1", "--burst", "3", "--seed", "11", "--json")
	if r.code != 0 {
		t.Fatalf("hub loadtest on two hubs: exit %d\n%s\nhub A:\n%s\nhub B:\n%s", r.code, r.stderr, a.logs.String(), b.logs.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, r.stdout)
	}
	if len(rep.Hubs) != 2 || len(rep.Errors) != 0 || rep.Issued == 0 {
		t.Fatalf("report: hubs %v, errors %v, %d issued", rep.Hubs, rep.Errors, rep.Issued)
	}

	// The register: every number from 1 to the last is there once, an
	// issued certificate or an annulment, whichever hub gave it.
	ctx := context.Background()
	st, err := postgres.OpenStore(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	year := time.Now().Year()
	var issued []string // the certificates of the register, in its order
	err = st.View(ctx, func(tx store.Tx) error {
		reg := tx.Protocol()
		last, err := reg.Last(year)
		if err != nil {
			return err
		}
		if int(last.Seq) < rep.Issued {
			t.Errorf("the register's last number is %s, below the %d certificates the load test issued", last, rep.Issued)
		}
		t.Logf("%d requests to two hubs, %d certificates issued; the register runs 1–%d", rep.Requests, rep.Issued, last.Seq)
		seen := map[string]bool{}
		for seq := uint64(1); seq <= last.Seq; seq++ {
			e, err := reg.Get(protocol.Number{Year: year, Seq: seq})
			if err != nil {
				t.Errorf("number %d of %d: %v", seq, year, err)
				continue
			}
			if e.Ref == "" { // an annulment
				continue
			}
			if seen[e.Ref] {
				t.Errorf("certificate %s registered twice", e.Ref)
			}
			seen[e.Ref] = true
			issued = append(issued, e.Ref)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(issued) == 0 {
		t.Fatal("the register holds no certificate")
	}

	// Both hubs keep their PDFs in the one directory they share, so either
	// serves what the other issued.
	var files int
	filepath.WalkDir(pdfs, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return err
	})
	if files < len(issued) {
		t.Errorf("%d PDFs in the shared directory for %d certificates", files, len(issued))
	}
	// Each hub's public page answers for a certificate of the register.
	id := issued[len(issued)-1]
	for _, h := range []*runningHub{a, b} {
		if status, page := verificationPage(t, h, id); status != http.StatusOK || !bytes.Contains(page, []byte(id)) {
			t.Errorf("%s/v/%s: %d", h.URL, id, status)
		}
	}
	// Staff revoke it on the database while both hubs serve; hub B's
	// public page says so at once.
	if r := hubEnv(t, "", env, "certificate", "revoke", "--data", dirA, "--id", id, "--reason", "rilasciato per errore", "--authorised-by", "Laura Bianchi"); r.code != 0 {
		t.Fatalf("hub certificate revoke --db: %d %q", r.code, r.stderr)
	}
	if r := hubEnv(t, "", env, "certificate", "show", "--data", dirB, "--id", id); r.code != 0 || !strings.Contains(r.stdout, "revoked") {
		t.Errorf("hub certificate show --db after the revocation: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, page := verificationPage(t, b, id); !bytes.Contains(bytes.ToLower(page), []byte("revoc")) {
		t.Errorf("hub B's page of certificate %s does not say it was revoked:\n%s", id, page)
	}

	// A request hub A accepted, presented to hub B under the same
	// authority (as a load balancer in front of both would), is a replay.
	rec := &recorder{tr: a.Transport(t)}
	c := &hubclient.Client{HTTP: &http.Client{Transport: rec}}
	code := enrolCode(t, env, dirA)
	p, err := c.Enrol(ctx, a.URL, code, "Cassa")
	if err != nil {
		t.Fatalf("enrol: %v", err)
	}
	c = &hubclient.Client{Profile: p, HTTP: &http.Client{Transport: rec}}
	if _, err := c.Self(ctx); err != nil {
		t.Fatalf("signed request to hub A: %v", err)
	}
	replay := rec.last.Clone(ctx)
	replay.Body = io.NopCloser(bytes.NewReader(rec.body))
	replay.RequestURI = ""
	bu, _ := url.Parse(b.URL)
	replay.URL.Host = bu.Host // to hub B; Host, which the signature covers, stays hub A's
	resp, err := b.Transport(t).RoundTrip(replay)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var refusal struct{ Reason string }
	json.NewDecoder(resp.Body).Decode(&refusal)
	if resp.StatusCode != http.StatusUnauthorized || refusal.Reason != "nonce_replayed" {
		t.Errorf("hub A's request replayed to hub B: %d %q, want 401 nonce_replayed", resp.StatusCode, refusal.Reason)
	}
}

// enrolCode mints an enrolment code for the demo shop in the database.
func enrolCode(t *testing.T, env []string, data string) string {
	t.Helper()
	r := hubEnv(t, "", env, "operator", "enrol-code", "--data", data, demoShopID)
	m := enrolCodeLine.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("hub operator enrol-code: %d %q %q", r.code, r.stdout, r.stderr)
	}
	return m[1]
}

// verificationPage fetches hub h's public page of certificate id.
func verificationPage(t *testing.T, h *runningHub, id string) (int, []byte) {
	t.Helper()
	resp, err := h.Client(t).Get(h.URL + "/v/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, page
}
