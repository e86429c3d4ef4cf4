package seal_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate/pdf/sample"
	"github.com/sportello/sportello/internal/keyhandover"
	"github.com/sportello/sportello/internal/seal"
)

func kids(ks seal.KeySet) map[string]bool {
	out := map[string]bool{}
	for _, k := range ks.Keys {
		out[k.Kid] = true
	}
	return out
}

// publicTrust is what an office builds from what the hub publishes.
func publicTrust(t *testing.T, k *seal.Keys) seal.Trust {
	t.Helper()
	jwks, err := json.Marshal(k.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	trust, err := seal.NewTrust(k.CAPEM(), jwks)
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

func TestRotationKeepsOldCertificatesVerifiable(t *testing.T) {
	dir := t.TempDir()
	now := sample.Issued
	clk := func() time.Time { return now }
	k1, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	if k1.ResponseKeyID != k1.KeyID {
		t.Fatalf("a new directory signs answers with %s, not its token key %s", k1.ResponseKeyID, k1.KeyID)
	}
	old, _ := issue(t, k1, sample.Residenza())

	until := now.Add(seal.SixMonths)
	tok, err := seal.RotateToken(dir, now, until, false)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := seal.RotateSeal(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	rsp, err := seal.RotateResponse(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Old != k1.KeyID || rsp.Old != k1.KeyID || sl.Old == sl.New {
		t.Fatalf("rotations: token %+v, response %+v, seal %+v", tok, rsp, sl)
	}

	now = now.Add(24 * time.Hour)
	k2, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	if k2.KeyID != tok.New || k2.ResponseKeyID != rsp.New || k2.KeyID == k2.ResponseKeyID {
		t.Fatalf("after the rotations the token key is %s (want %s), the response key %s (want %s)", k2.KeyID, tok.New, k2.ResponseKeyID, rsp.New)
	}
	if got := k2.Seal.Certificate().SerialNumber.Text(16); got != sl.New {
		t.Fatalf("the seal in use is %s, not the rotated %s", got, sl.New)
	}
	if ks := kids(k2.JWKS()); !ks[k1.KeyID] || !ks[k2.KeyID] || ks[k2.ResponseKeyID] || len(ks) != 2 {
		t.Fatalf("the JWKS lists %v; want the retired token key %s and the new %s, not the response key %s (kiosks pin it)", ks, k1.KeyID, k2.KeyID, k2.ResponseKeyID)
	}
	// The old certificate verifies with the hub's own trust and with what
	// it publishes; the new key seals with the new seal.
	for name, trust := range map[string]seal.Trust{"hub": k2.Trust(), "published": publicTrust(t, k2)} {
		if res, err := seal.VerifyPDF(old, trust); err != nil || !res.Valid {
			t.Fatalf("%s trust: the certificate sealed before the rotation: %v %s", name, err, res.Summary)
		}
	}
	fresh, tokNew := issue(t, k2, sample.StatoDiFamiglia())
	if !strings.Contains(tokNew, "") || bytes.Equal(fresh, old) {
		t.Fatal("no new certificate")
	}
	res, err := seal.VerifyPDF(fresh, publicTrust(t, k2))
	if err != nil || !res.Valid || !strings.Contains(res.Signer, "Seal") {
		t.Fatalf("the certificate sealed after the rotation: %v %s", err, res.Summary)
	}
	if _, err := seal.VerifyToken(tokNew, seal.KeySet{Keys: []seal.JWK{k1.JWKS().Keys[0]}}); err == nil {
		t.Fatal("a token sealed after the rotation verifies with the retired key")
	}
	// Kiosks pinned to the old key reach the new one.
	kid, key, err := keyhandover.Follow(k1.KeyID, k1.TokenKey.Public().(ed25519.PublicKey), k2.Handovers)
	if err != nil || kid != k2.ResponseKeyID || !key.Equal(k2.ResponseKey.Public()) {
		t.Fatalf("the hand-over leads from %s to %s (%v), want %s", k1.KeyID, kid, err, k2.ResponseKeyID)
	}
	// Anchors signed by any key stay checkable.
	pub, err := seal.LoadPublicKeys(dir)
	if err != nil || pub[k1.KeyID] == nil || pub[k2.KeyID] == nil || pub[k2.ResponseKeyID] == nil {
		t.Fatalf("public keys %v: %v", pub, err)
	}

	// Once every certificate the old token key sealed has expired, the
	// JWKS drops it; the hub itself still recognises its paper.
	now = until.Add(time.Second)
	k3, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	if ks := kids(k3.JWKS()); ks[k1.KeyID] || len(ks) != 1 {
		t.Fatalf("after %s the JWKS still lists %v", until, ks)
	}
	if res, _ := seal.VerifyPDF(old, publicTrust(t, k3)); res.Valid {
		t.Fatal("the published key set still verifies a token of a key it dropped")
	}
	if res, err := seal.VerifyPDF(old, k3.Trust()); err != nil || !res.Valid {
		t.Fatalf("the hub no longer recognises its own old certificate: %v %s", err, res.Summary)
	}
}

func TestRetiredTokenKeyForeverWhenUnlimited(t *testing.T) {
	dir := t.TempDir()
	now := sample.Issued
	clk := func() time.Time { return now }
	k1, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.RotateToken(dir, now, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	now = now.AddDate(30, 0, 0)
	k2, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	if !kids(k2.JWKS())[k1.KeyID] {
		t.Fatal("a token key that sealed certificates of unlimited validity left the JWKS")
	}
}

func TestOfflineCA(t *testing.T) {
	dir, offline := t.TempDir(), t.TempDir()
	now := sample.Issued
	clk := func() time.Time { return now }
	k1, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := issue(t, k1, sample.Residenza())
	// The CA key goes to the offline machine; only ca.pem stays.
	caKey := filepath.Join(offline, seal.CAKeyFile)
	if err := os.Rename(filepath.Join(dir, seal.CAKeyFile), caKey); err != nil {
		t.Fatal(err)
	}
	k2, err := seal.LoadOrCreate(dir, clk)
	if err != nil || k2.CAKeyHere() {
		t.Fatalf("a hub without the CA key: %v (CA key here: %v)", err, k2 != nil && k2.CAKeyHere())
	}
	if _, err := os.Stat(filepath.Join(dir, seal.CAKeyFile)); err == nil {
		t.Fatal("loading the keys made a new CA key")
	}
	if _, err := seal.RotateSeal(dir, now); err == nil || !strings.Contains(err.Error(), "seal-request") {
		t.Fatalf("rotating the seal without the CA key: %v", err)
	}
	csr, err := seal.SealRequest(dir)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, seal.CACertFile))
	caKeyPEM, _ := os.ReadFile(caKey)
	cert, err := seal.IssueSeal(csr, caPEM, caKeyPEM, now)
	if err != nil {
		t.Fatal(err)
	}

	// A certificate from another CA for the same request is refused.
	other := t.TempDir()
	if _, err := seal.LoadOrCreate(other, clk); err != nil {
		t.Fatal(err)
	}
	otherCA, _ := os.ReadFile(filepath.Join(other, seal.CACertFile))
	otherKey, _ := os.ReadFile(filepath.Join(other, seal.CAKeyFile))
	forged, err := seal.IssueSeal(csr, otherCA, otherKey, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.InstallSeal(dir, forged, now); err == nil || !strings.Contains(err.Error(), "hub CA") {
		t.Fatalf("a seal from another CA: %v", err)
	}
	if _, err := seal.IssueSeal(csr, caPEM, otherKey, now); err == nil {
		t.Fatal("a CA certificate with another CA's key issued a seal")
	}

	rot, err := seal.InstallSeal(dir, cert, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.InstallSeal(dir, cert, now); err == nil {
		t.Fatal("the same request was installed twice")
	}
	k3, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	if got := k3.Seal.Certificate().SerialNumber.Text(16); got != rot.New || rot.Old == rot.New {
		t.Fatalf("the seal in use is %s, want the installed %s (rotation %+v)", got, rot.New, rot)
	}
	fresh, _ := issue(t, k3, sample.StatoDiFamiglia())
	for _, pdf := range [][]byte{old, fresh} {
		if res, err := seal.VerifyPDF(pdf, publicTrust(t, k3)); err != nil || !res.Valid {
			t.Fatalf("%v %s", err, res.Summary)
		}
	}
}

// A serving hub reloads its keys after a rotation: the new token key and
// seal seal at once, and a comune's own seal set in place of the
// directory's stays.
func TestReloadAfterRotation(t *testing.T) {
	dir := t.TempDir()
	clk := func() time.Time { return sample.Issued }
	live, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	old := live.KeyID
	oldSeal := live.Seal.Certificate()
	tok, err := seal.RotateToken(dir, clk(), clk().Add(seal.SixMonths), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.RotateSeal(dir, clk()); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	if live.KeyID != tok.New || live.Seal.Certificate().Equal(oldSeal) || !kids(live.JWKS())[old] {
		t.Fatalf("after Reload: token key %s (want %s), JWKS %v", live.KeyID, tok.New, kids(live.JWKS()))
	}
	pdf, _ := issue(t, live, sample.Residenza())
	if res, err := seal.VerifyPDF(pdf, publicTrust(t, live)); err != nil || !res.Valid {
		t.Fatalf("sealed after Reload: %v %s", err, res.Summary)
	}

	other, err := seal.LoadOrCreate(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	live.Seal = other.Seal // the comune's own seal, as hub serve --seal-p12 sets it
	if _, err := seal.RotateSeal(dir, clk()); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	if live.Seal != other.Seal {
		t.Fatal("Reload replaced the comune's own seal with the directory's")
	}
}

// A token rotation keeps the old token key for signed answers (kiosks pin
// it), but the JWKS — what checks QR seals — lists only token keys: the
// one in force and each retired one until its certificates expire, each
// once. Otherwise a leaked old token key would forge verifying seals for
// as long as it signs answers (issue 18 review).
func TestRetiredTokenKeyLeavesJWKSWhenItsCertificatesExpire(t *testing.T) {
	dir := t.TempDir()
	now := sample.Issued
	clk := func() time.Time { return now }
	k1, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	until := now.Add(seal.SixMonths)
	if _, err := seal.RotateToken(dir, now, until, false); err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		k, err := seal.LoadOrCreate(dir, clk)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, j := range k.JWKS().Keys {
			out = append(out, j.Kid)
		}
		return out
	}
	now = now.Add(time.Hour)
	k2, err := seal.LoadOrCreate(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	if k2.ResponseKeyID != k1.KeyID {
		t.Fatalf("the answers are signed by %s, not by the key kiosks pinned %s", k2.ResponseKeyID, k1.KeyID)
	}
	if got := list(); len(got) != 2 || got[0] != k2.KeyID || got[1] != k1.KeyID {
		t.Fatalf("right after the rotation the JWKS lists %v; want the new token key %s and the retired %s, once each", got, k2.KeyID, k1.KeyID)
	}
	now = until.Add(time.Second)
	if got := list(); len(got) != 1 || got[0] != k2.KeyID {
		t.Fatalf("after %s the JWKS lists %v; want only the token key in force %s", until, got, k2.KeyID)
	}
}
