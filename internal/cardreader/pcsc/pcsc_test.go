package pcsc_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/cardreader/pcsc"
	"github.com/sportello/sportello/internal/cardreader/pcsctest"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/iso7816"
)

// These tests use slot 0 of the private pcscd's vpcd driver.
const reader = pcsctest.Reader0

// port is where the virtual card attaches to reader; TestMain sets it once,
// from the private pcscd it starts.
var port string

var now = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// TestMain starts a private pcscd and points this process's PC/SC library
// (and scriptor, which inherits the environment) at it, so that a pcscd the
// machine runs is never used.
func TestMain(m *testing.M) {
	d, err := pcsctest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcsc tests:", err)
		os.Exit(1)
	}
	os.Setenv(pcsctest.SocketEnv, d.Socket)
	port = d.Port0
	code := m.Run()
	d.Stop()
	os.Exit(code)
}

// insert attaches card to the vpcd reader and waits until pcscd sees it; the
// returned function pulls it out and waits for pcscd to notice.
func insert(t testing.TB, p *pcsc.Provider, card *virtual.Card, opt virtual.VPCDOptions) (remove func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	opt.Retry = 5 * time.Second
	go func() { done <- virtual.Attach(ctx, port, card, opt) }()
	if !waitFor(p, cardreader.Inserted, 10*time.Second) {
		cancel()
		t.Fatalf("pcscd did not see the virtual card in %q: %v", reader, <-done)
	}
	return func() {
		cancel()
		<-done
		waitFor(p, cardreader.Removed, 10*time.Second)
	}
}

func waitFor(p *pcsc.Provider, kind cardreader.EventKind, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	seen := false
	p.Watch(ctx, []string{reader}, func(e cardreader.Event) bool {
		seen = e.Kind == kind
		return !seen
	})
	return seen
}

func provider(t testing.TB) *pcsc.Provider {
	t.Helper()
	p, err := pcsc.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func trust(t testing.TB) []*x509.Certificate {
	ca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{ca}
}

func TestReadThroughPCSC(t *testing.T) {
	p := provider(t)
	tests := []struct {
		mode virtual.Mode
		nis  string
		code cie.Code // "" for a verified card
	}{
		{virtual.Genuine, "345678901234", ""},
		{virtual.Cloned, "", cie.ChipAuthFailed},
		{virtual.Tampered, "", cie.NISHashMismatch},
		{virtual.Expired, "", cie.SignerExpired},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			card, err := virtual.New(virtual.Config{NIS: tt.nis, Mode: tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			defer insert(t, p, card, virtual.VPCDOptions{})()
			c, err := p.Connect(context.Background(), reader)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if !bytes.Equal(c.ATR(), virtual.ATR) {
				t.Errorf("ATR %X, want %X", c.ATR(), virtual.ATR)
			}
			r, err := cie.ReadLevel1(context.Background(), c, cie.Options{CSCAs: trust(t), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if r.NIS != card.NIS() {
				t.Errorf("NIS %q, want %q", r.NIS, card.NIS())
			}
			if tt.code == "" {
				if !r.Verified() {
					t.Fatalf("genuine card not verified: %v", r.Problems)
				}
				return
			}
			if r.Verified() || !r.Has(tt.code) {
				t.Fatalf("problems %v, want %s", r.Problems, tt.code)
			}
		})
	}
}

// VERIFY PIN inside the IAS secure channel, through pcscd: tries left, the
// right PIN, a blocked PIN, and a command whose MAC was altered on the way.
func TestPINThroughPCSC(t *testing.T) {
	p := provider(t)
	auth, err := virtual.TestDeviceAuth()
	if err != nil {
		t.Fatal(err)
	}
	opt := cie.PINOptions{Auth: auth}
	ctx := context.Background()
	card, _ := virtual.New(virtual.Config{})
	remove := insert(t, p, card, virtual.VPCDOptions{})
	c, err := p.Connect(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	var pe *cie.PINError
	if err := cie.VerifyPIN(ctx, c, []byte("11111111"), opt); !errors.As(err, &pe) || pe.TriesLeft != 2 {
		t.Fatalf("wrong PIN: %v, want 2 tries left", err)
	}
	altered := &flipMAC{T: c}
	var se *iso7816.StatusError
	if err := cie.VerifyPIN(ctx, altered, []byte(virtual.DemoPIN), opt); !errors.As(err, &se) || se.SW != 0x6988 || !altered.done {
		t.Fatalf("altered VERIFY: %v, want the card to refuse it with 6988", err)
	}
	if n, err := cie.PINTriesLeft(ctx, c, opt); err != nil || n != 2 {
		t.Fatalf("tries left = %d, %v; want 2 (an altered command costs no try)", n, err)
	}
	if err := cie.VerifyPIN(ctx, c, []byte(virtual.DemoPIN), opt); err != nil {
		t.Fatalf("right PIN: %v", err)
	}
	c.Close()
	remove()

	blocked, _ := virtual.New(virtual.Config{Mode: virtual.PINBlocked, NewChip: true})
	defer insert(t, p, blocked, virtual.VPCDOptions{})()
	c, err = p.Connect(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := cie.VerifyPIN(ctx, c, []byte(virtual.DemoPIN), opt); !errors.As(err, &pe) || !pe.Blocked {
		t.Fatalf("blocked card: %v, want blocked", err)
	}
}

// flipMAC alters the MAC of the protected VERIFY on its way to the card.
type flipMAC struct {
	T    iso7816.Transport
	done bool
}

func (f *flipMAC) Transmit(ctx context.Context, b []byte) ([]byte, error) {
	if b[0]&0x0C != 0 && b[1] == 0x20 {
		b = append([]byte(nil), b...)
		b[len(b)-2] ^= 0x80
		f.done = true
	}
	return f.T.Transmit(ctx, b)
}

// BenchmarkVerifyPINPCSC opens the IAS secure channel (DH, DAPP) and
// verifies the PIN through pcscd and vpcd.
func BenchmarkVerifyPINPCSC(b *testing.B) {
	p := provider(b)
	auth, err := virtual.TestDeviceAuth()
	if err != nil {
		b.Fatal(err)
	}
	card, _ := virtual.New(virtual.Config{})
	defer insert(b, p, card, virtual.VPCDOptions{})()
	c, err := p.Connect(context.Background(), reader)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		if err := cie.VerifyPIN(context.Background(), c, []byte(virtual.DemoPIN), cie.PINOptions{Auth: auth}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRemovedMidRead(t *testing.T) {
	p := provider(t)
	card, _ := virtual.New(virtual.Config{})
	// 5 commands in: during the reads of the key file.
	defer insert(t, p, card, virtual.VPCDOptions{RemoveAfter: 5})()
	c, err := p.Connect(context.Background(), reader)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = cie.ReadLevel1(context.Background(), c, cie.Options{CSCAs: trust(t), Now: now})
	var re *cie.ReadError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a ReadError", err)
	}
	if !errors.Is(err, pcsc.ErrRemoved) {
		t.Fatalf("err = %v, want it to say the card was removed", err)
	}
}

func TestNoCard(t *testing.T) {
	p := provider(t)
	if _, err := p.Connect(context.Background(), reader); !errors.Is(err, cardreader.ErrNoCard) {
		t.Fatalf("empty reader: %v, want ErrNoCard", err)
	}
	if _, err := p.Connect(context.Background(), "No Such Reader 99"); !errors.Is(err, cardreader.ErrNoReader) {
		t.Fatalf("unknown reader: %v, want ErrNoReader", err)
	}
}

// An independent PC/SC client (pcsc-tools' scriptor) sends the APDUs of
// DESIGN.md to the virtual card; its NIS and signature must check out.
func TestScriptor(t *testing.T) {
	if _, err := exec.LookPath("scriptor"); err != nil {
		t.Fatal("scriptor not installed: run `make deps` (package pcsc-tools)")
	}
	p := provider(t)
	card, _ := virtual.New(virtual.Config{NIS: "555000111222"})
	defer insert(t, p, card, virtual.VPCDOptions{})()
	challenge := "01 02 03 04 05 06 07 08"
	resps, out := runScriptor(t, []string{
		"00 A4 04 0C 0D A0 00 00 00 30 80 00 00 00 09 81 60 01",
		"00 A4 04 0C 06 A0 00 00 00 00 39",
		"00 B0 81 00 0C",
		"00 B0 85 00 00",
		"00 B0 01 00 00",
		"00 22 41 A4 06 80 01 02 84 01 83",
		"00 88 00 00 08 " + challenge + " 00",
	})
	for i, r := range resps {
		if !strings.HasSuffix(r, "9000") && !strings.HasSuffix(r, "6282") {
			t.Fatalf("answer %d = %s:\n%s", i, r, out)
		}
	}
	nis, _ := hex.DecodeString(strings.TrimSuffix(resps[2], "9000"))
	if string(nis) != "555000111222" {
		t.Fatalf("NIS via scriptor = %q", nis)
	}
	kpub, _ := hex.DecodeString(resps[3][:len(resps[3])-4] + resps[4][:len(resps[4])-4])
	key, _, err := cie.ParseKpub(kpub)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := hex.DecodeString(strings.TrimSuffix(resps[6], "9000"))
	ch, _ := hex.DecodeString(strings.ReplaceAll(challenge, " ", ""))
	if err := rsa.VerifyPKCS1v15(key, crypto.Hash(0), ch, sig); err != nil {
		t.Fatalf("signature via scriptor does not verify with key 1005: %v", err)
	}
}

// An independent reader that selects each EF by its file identifier and
// then reads it with plain offsets, as the CIE middleware does, gets the same
// files through pcscd; an unknown identifier answers 6A82.
func TestScriptorSelectByID(t *testing.T) {
	if _, err := exec.LookPath("scriptor"); err != nil {
		t.Fatal("scriptor not installed: run `make deps` (package pcsc-tools)")
	}
	p := provider(t)
	card, _ := virtual.New(virtual.Config{NIS: "555000111333"})
	defer insert(t, p, card, virtual.VPCDOptions{})()
	challenge := "08 07 06 05 04 03 02 01"
	resps, out := runScriptor(t, []string{
		"00 A4 04 0C 0D A0 00 00 00 30 80 00 00 00 09 81 60 01",
		"00 A4 04 0C 06 A0 00 00 00 00 39",
		"00 A4 02 0C 02 10 01",
		"00 B0 00 00 0C",
		"00 A4 02 04 02 10 05 00",
		"00 B0 00 00 00",
		"00 B0 01 00 00",
		"00 A4 02 0C 02 10 09",
		"00 22 41 A4 06 80 01 02 84 01 83",
		"00 88 00 00 08 " + challenge + " 00",
	})
	wantSW := []string{"9000", "9000", "9000", "9000", "9000", "9000", "6282", "6A82", "9000", "9000"}
	for i, r := range resps {
		if !strings.HasSuffix(r, wantSW[i]) {
			t.Fatalf("answer %d = %s, want status %s:\n%s", i, r, wantSW[i], out)
		}
	}
	if resps[2] != "9000" {
		t.Fatalf("SELECT 1001 with P2 0C answered data: %s", resps[2])
	}
	nis, _ := hex.DecodeString(strings.TrimSuffix(resps[3], "9000"))
	if string(nis) != "555000111333" {
		t.Fatalf("NIS read after SELECT 1001 = %q", nis)
	}
	fcp, _ := hex.DecodeString(strings.TrimSuffix(resps[4], "9000"))
	kpub, _ := hex.DecodeString(resps[5][:len(resps[5])-4] + resps[6][:len(resps[6])-4])
	tmpl, ok := iso7816.FindTLV(fcp, 0x62)
	size, ok2 := iso7816.FindTLV(tmpl.Value, 0x80)
	if !ok || !ok2 || len(size.Value) != 2 || int(size.Value[0])<<8|int(size.Value[1]) != len(kpub) {
		t.Fatalf("FCP %X does not give the %d bytes EF 1005 holds", fcp, len(kpub))
	}
	key, _, err := cie.ParseKpub(kpub)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := hex.DecodeString(strings.TrimSuffix(resps[9], "9000"))
	ch, _ := hex.DecodeString(strings.ReplaceAll(challenge, " ", ""))
	if err := rsa.VerifyPKCS1v15(key, crypto.Hash(0), ch, sig); err != nil {
		t.Fatalf("signature does not verify with the key read from EF 1005 by identifier: %v", err)
	}
}

// runScriptor sends apdus to the virtual reader with pcsc-tools' scriptor
// and returns its answers, one for each APDU, and its whole output.
func runScriptor(t *testing.T, apdus []string) ([]string, []byte) {
	t.Helper()
	cmd := exec.Command("scriptor", "-r", reader)
	cmd.Stdin = strings.NewReader(strings.Join(apdus, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scriptor: %v\n%s", err, out)
	}
	resps := parseScriptor(string(out))
	if len(resps) != len(apdus) {
		t.Fatalf("scriptor gave %d answers, want %d:\n%s", len(resps), len(apdus), out)
	}
	return resps, out
}

var hexLine = regexp.MustCompile(`^[0-9A-F]{2}( [0-9A-F]{2})*$`)

// parseScriptor collects the hex of each "<" answer, which scriptor may
// spread over several lines.
func parseScriptor(out string) []string {
	var resps []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, " : "); i >= 0 {
			l = l[:i]
		}
		switch {
		case strings.HasPrefix(l, "<"):
			in = true
			resps = append(resps, "")
			l = strings.TrimSpace(strings.TrimPrefix(l, "<"))
			resps[len(resps)-1] += strings.ReplaceAll(l, " ", "")
		case strings.HasPrefix(l, ">"):
			in = false
		case in && hexLine.MatchString(l):
			resps[len(resps)-1] += strings.ReplaceAll(l, " ", "")
		default:
			in = in && l != ""
		}
	}
	return resps
}

// BenchmarkReadLevel1PCSC is a full level-1 read through pcscd and vpcd.
func BenchmarkReadLevel1PCSC(b *testing.B) {
	p := provider(b)
	card, _ := virtual.New(virtual.Config{})
	defer insert(b, p, card, virtual.VPCDOptions{})()
	opt := cie.Options{CSCAs: trust(b), Now: now}
	for b.Loop() {
		c, err := p.Connect(context.Background(), reader)
		if err != nil {
			b.Fatal(err)
		}
		r, err := cie.ReadLevel1(context.Background(), c, opt)
		c.Close()
		if err != nil || !r.Verified() {
			b.Fatalf("%v %v", err, r)
		}
	}
}
