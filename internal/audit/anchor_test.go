package audit

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// memSink keeps the anchors it is given; fail makes it refuse them.
type memSink struct {
	got  []SignedHead
	fail error
}

func (m *memSink) Anchor(s SignedHead) error {
	if m.fail != nil {
		return m.fail
	}
	m.got = append(m.got, s)
	return nil
}

func testKey(t testing.TB, seed byte) (ed25519.PrivateKey, map[string]ed25519.PublicKey) {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return key, map[string]ed25519.PublicKey{fmt.Sprintf("kid%d", seed): key.Public().(ed25519.PublicKey)}
}

func TestSignedHeadLineRoundTrip(t *testing.T) {
	key, keys := testKey(t, 1)
	sink := &memSink{}
	at := time.Date(2026, 3, 14, 10, 22, 31, 123456789, time.UTC)
	a := NewAnchorer(key, "kid1", func() time.Time { return at }, Head{}, sink)
	h := Head{Seq: 1207, Hash: Hash{0x9f, 0x86}}
	if err := a.Anchor(h); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 1 {
		t.Fatalf("%d anchors", len(sink.got))
	}
	line := sink.got[0].String()
	want := "1207 9f86" + strings.Repeat("0", 60) + " 2026-03-14T10:22:31.123Z kid1 "
	if !strings.HasPrefix(line, want) || len(line) != len(want)+88 {
		t.Fatalf("line %q, want %q and 88 characters of signature", line, want)
	}
	got, err := ParseSignedHead(line)
	if err != nil {
		t.Fatal(err)
	}
	if got.Head != h || !got.Time.Equal(at.Truncate(time.Millisecond)) || got.KeyID != "kid1" || got.String() != line {
		t.Errorf("parsed %+v", got)
	}
	if err := got.Check(keys); err != nil {
		t.Errorf("genuine anchor: %v", err)
	}
	// The signature covers the context line and the four fields as written.
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), []byte("sportello audit anchor v1\n"+line[:len(want)-1]), got.Sig) {
		t.Error("the signature is not over the documented message")
	}

	// Any change to any field breaks the signature; a line that is not
	// one is a syntax error, never a forgery to ignore.
	f := strings.Split(line, " ")
	other, _ := testKey(t, 2)
	forged := NewAnchorer(other, "kid1", func() time.Time { return at }, Head{}, sink)
	if err := forged.Anchor(h); err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]string{
		"seq":       strings.Join([]string{"1208", f[1], f[2], f[3], f[4]}, " "),
		"hash":      strings.Join([]string{f[0], strings.Repeat("1", 64), f[2], f[3], f[4]}, " "),
		"time":      strings.Join([]string{f[0], f[1], "2026-03-14T10:22:31.124Z", f[3], f[4]}, " "),
		"key id":    strings.Join([]string{f[0], f[1], f[2], "kid2", f[4]}, " "),
		"other key": sink.got[1].String(),
	} {
		s, err := ParseSignedHead(l)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := s.Check(keys); !errors.Is(err, ErrAnchorForged) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
	for _, bad := range []string{"", line + " x", "0 " + strings.Join(f[1:], " "), strings.Replace(line, f[4], f[4][:80], 1),
		strings.Replace(line, f[2], "yesterday", 1), strings.Replace(line, f[1], "abc", 1), strings.Replace(line, " kid1 ", "  ", 1)} {
		if _, err := ParseSignedHead(bad); !errors.Is(err, ErrAnchorSyntax) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestAnchorerNeverTwiceNorBack(t *testing.T) {
	key, _ := testKey(t, 1)
	sink := &memSink{}
	a := NewAnchorer(key, "kid1", time.Now, Head{Seq: 5}, sink)
	for _, seq := range []uint64{3, 5, 6, 6, 4, 9} {
		if err := a.Anchor(Head{Seq: seq}); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []uint64
	for _, s := range sink.got {
		seqs = append(seqs, s.Seq)
	}
	if fmt.Sprint(seqs) != "[6 9]" || a.Last().Seq != 9 {
		t.Errorf("anchored %v, last %v", seqs, a.Last())
	}

	// A failed sink leaves the head unanchored: the next call tries again.
	sink.fail = errors.New("disk full")
	if err := a.Anchor(Head{Seq: 10}); err == nil || !strings.Contains(err.Error(), "audit entry 10 could not be anchored: disk full") {
		t.Errorf("failing sink: %v", err)
	}
	if a.Last().Seq != 9 {
		t.Errorf("last %v after a failure", a.Last())
	}
	sink.fail = nil
	if err := a.Anchor(Head{Seq: 10}); err != nil || a.Last().Seq != 10 {
		t.Errorf("after the sink recovered: %v, last %v", err, a.Last())
	}
}

func TestCheckAnchors(t *testing.T) {
	key, keys := testKey(t, 1)
	other, _ := testKey(t, 2)
	sink := &memSink{}
	a := NewAnchorer(key, "kid1", time.Now, Head{}, sink)
	b := NewAnchorer(other, "kid1", time.Now, Head{}, sink)
	for _, h := range []Head{{Seq: 3, Hash: Hash{3}}, {Seq: 7, Hash: Hash{7}}} {
		if err := a.Anchor(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Anchor(Head{Seq: 9, Hash: Hash{9}}); err != nil {
		t.Fatal(err)
	}
	lines := []AnchorLine{
		{Where: "line 1", Signed: sink.got[0]},
		{Where: "line 2", Err: ErrAnchorSyntax},
		{Where: "line 3", Signed: sink.got[2]},
		{Where: "line 4", Signed: sink.got[1]},
	}
	c := CheckAnchors(lines, keys)
	if len(c.Anchors()) != 2 || c.Valid != 2 || c.Lines != 4 || c.Last.Seq != 7 || c.LastWhere != "line 4" || c.UnreadableN != 1 || c.ForgedN != 1 {
		t.Fatalf("%+v", c)
	}
	if err := c.Err(); !errors.Is(err, ErrAnchorForged) || !strings.Contains(err.Error(), "line 3 (the anchor of entry 9)") {
		t.Errorf("forged line: %v", err)
	}
	if a := c.Anchors(); a[len(a)-1].Source != "the anchor at line 4" {
		t.Errorf("source %q", a[len(a)-1].Source)
	}
	if err := CheckAnchors(lines[:2], keys).Err(); err != nil {
		t.Errorf("no forged line: %v", err)
	}
}

// TestVerifierWithSignedAnchors checks a chain whose tail was cut and whose
// head was moved back with it, which the recorded head cannot show: only an
// anchor kept elsewhere does.
func TestVerifierWithSignedAnchors(t *testing.T) {
	recs, head := chain(t, 10)
	var hashes []Hash
	for _, r := range recs {
		_, h, err := Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	anchor := func(seq uint64) Anchor {
		return Anchor{Head: Head{Seq: seq, Hash: hashes[seq-1]}, Source: fmt.Sprintf("the anchor at line %d", seq)}
	}
	walk := func(n int, recorded Head, anchors ...Anchor) error {
		v := NewVerifier(anchors...)
		for i := 0; i < n; i++ {
			if _, err := v.Add(uint64(i+1), recs[i]); err != nil {
				return err
			}
		}
		_, err := v.Finish(recorded)
		return err
	}
	if err := walk(10, head, anchor(4), anchor(10)); err != nil {
		t.Fatalf("whole chain: %v", err)
	}
	cutHead := Head{Seq: 7, Hash: hashes[6]}
	if err := walk(7, cutHead, anchor(4)); err != nil {
		t.Fatalf("the cut shows to nothing but a later anchor, yet: %v", err)
	}
	err := walk(7, cutHead, anchor(4), anchor(9), anchor(10))
	var b *Break
	if !errors.As(err, &b) || b.Seq != 8 || !strings.Contains(err.Error(),
		"audit entry 8 is missing: the anchor at line 9 names entry 9 but the log ends at entry 7, so its tail was cut (the anchors reach entry 10)") {
		t.Errorf("cut tail: %v", err)
	}

	// Entries 6–10 rewritten as a whole, hashes and head recomputed.
	re := append([][]byte(nil), recs[:5]...)
	h := Head{Seq: 5, Hash: hashes[4]}
	for i := 5; i < 10; i++ {
		e := entry(i)
		e.Purpose = "altro"
		rec, next, err := Next(h, &e)
		if err != nil {
			t.Fatal(err)
		}
		re, h = append(re, rec), next
	}
	v := NewVerifier(anchor(4), anchor(8))
	for i, r := range re {
		if _, err = v.Add(uint64(i+1), r); err != nil {
			break
		}
	}
	if !errors.As(err, &b) || b.Seq != 8 || !strings.Contains(err.Error(), "not the "+hashes[7].String()+" recorded in the anchor at line 8: the log was rewritten after entry 4, the last that matches an anchor") {
		t.Errorf("rewritten: %v", err)
	}
}

// TestAnchorCheckIsBounded checks an anchor for every entry of a long chain:
// the anchors kept for the Verifier stay bounded, and still show a rewrite
// of an old entry (at the first kept anchor after it) and a cut tail.
func TestAnchorCheckIsBounded(t *testing.T) {
	const n = anchorRecent + 3*anchorStride + 10
	var recs [][]byte
	var head Head
	for i := 0; i < n; i++ {
		e := entry(i % 50)
		rec, next, err := Next(head, &e)
		if err != nil {
			t.Fatal(err)
		}
		recs, head = append(recs, rec), next
	}
	key, keys := testKey(t, 1)
	sink := &memSink{}
	a := NewAnchorer(key, "kid1", time.Now, Head{}, sink)
	c := NewAnchorCheck(keys)
	for i, r := range recs {
		_, h, err := Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Anchor(Head{Seq: uint64(i + 1), Hash: h}); err != nil {
			t.Fatal(err)
		}
		c.Add(AnchorLine{Where: fmt.Sprintf("line %d", i+1), Signed: sink.got[i]})
	}
	kept := c.Anchors()
	if c.Valid != n || len(kept) > anchorRecent+n/anchorStride+2 || !slices.ContainsFunc(kept, func(a Anchor) bool { return a.Head == head }) {
		t.Fatalf("%d valid, %d kept, the head %v among them: %v", c.Valid, len(kept), head, slices.ContainsFunc(kept, func(a Anchor) bool { return a.Head == head }))
	}
	walk := func(recs [][]byte) error {
		v := NewVerifier(kept...)
		for i, r := range recs {
			if _, err := v.Add(uint64(i+1), r); err != nil {
				return err
			}
		}
		_, last, _ := Decode(recs[len(recs)-1])
		_, err := v.Finish(Head{Seq: uint64(len(recs)), Hash: last})
		return err
	}
	err := walk(recs[:n-5])
	var b *Break
	if !errors.As(err, &b) || b.Seq != n-4 || !strings.Contains(err.Error(), "so its tail was cut") {
		t.Errorf("cut tail: %v", err)
	}
	// Entry 100 rewritten, and every hash after it recomputed.
	re := append([][]byte(nil), recs[:99]...)
	_, prev, _ := Decode(recs[98])
	h := Head{Seq: 99, Hash: prev}
	for i := 99; i < n; i++ {
		e := entry(i % 50)
		if i == 99 {
			e.Purpose = "altro"
		}
		rec, next, err := Next(h, &e)
		if err != nil {
			t.Fatal(err)
		}
		re, h = append(re, rec), next
	}
	err = walk(re)
	if !errors.As(err, &b) || b.Seq != anchorStride+1 || !strings.Contains(err.Error(), "the log was rewritten after entry 1,") {
		t.Errorf("old entry rewritten: %v", err)
	}
}
