package audit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ConfirmPruned accepts a checkpoint only when a signed anchor names its
// point with its hash and a later one was signed at least the retention
// period after it: a checkpoint written by hand, one at a point never
// anchored, one whose hash differs, and one that removed entries younger
// than the period are each refused, however many lines come between (the
// anchor is watched for, not kept by chance).
func TestConfirmPruned(t *testing.T) {
	key, keys := testKey(t, 1)
	start := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	clock := start
	sink := &memSink{}
	a := NewAnchorer(key, "kid1", func() time.Time { return clock }, Head{}, sink)
	// 9000 anchors in the first days (more than AnchorCheck keeps), then
	// one 37 months later.
	for i := uint64(1); i <= 9000; i++ {
		clock = start.Add(time.Duration(i) * time.Second)
		if err := a.Anchor(Head{Seq: i, Hash: Hash{byte(i), byte(i >> 8)}}); err != nil {
			t.Fatal(err)
		}
	}
	point := Head{Seq: 1500, Hash: Hash{byte(1500 % 256), byte(1500 >> 8)}}
	late := func(months int) []AnchorLine {
		clock = start.AddDate(0, months, 0)
		end := &memSink{}
		if err := NewAnchorer(key, "kid1", func() time.Time { return clock }, Head{Seq: 9000}, end).Anchor(Head{Seq: 9001, Hash: Hash{1}}); err != nil {
			t.Fatal(err)
		}
		var lines []AnchorLine
		for i, g := range append(append([]SignedHead(nil), sink.got...), end.got...) {
			lines = append(lines, AnchorLine{Where: fmt.Sprintf("line %d", i+1), Signed: g})
		}
		return lines
	}
	check := func(lines []AnchorLine, p Pruned) error {
		c := NewAnchorCheck(keys)
		c.Watch(p.At)
		for _, l := range lines {
			c.Add(l)
		}
		return c.ConfirmPruned(p, MinRetentionMonths)
	}
	old := late(37)
	if err := check(old, Pruned{Through: point, At: point}); err != nil {
		t.Errorf("a checkpoint at an anchored point 37 months old, among %d lines: %v", len(old), err)
	}
	// The refusals need only a few lines: the point's, and a late one.
	few := func(months int) []AnchorLine {
		l := late(months)
		return []AnchorLine{l[0], l[point.Seq-1], l[len(l)-1]}
	}
	if err := check(few(37), Pruned{Through: Head{Seq: 1000, Hash: Hash{9}}, At: point}); err != nil {
		t.Errorf("a removal under way towards that point: %v", err)
	}
	if err := check(nil, Pruned{}); err != nil {
		t.Errorf("nothing pruned: %v", err)
	}
	bad := point
	bad.Hash[5] = 1
	for name, tt := range map[string]struct {
		lines []AnchorLine
		p     Pruned
		want  string
	}{
		"other hash":        {few(37), Pruned{Through: bad, At: bad}, "the log was rewritten before it was pruned"},
		"never anchored":    {few(37), Pruned{Through: Head{Seq: 30000}, At: Head{Seq: 30000}}, "no signed anchor names entry 30000"},
		"younger than 36":   {few(35), Pruned{Through: point, At: point}, "less than the 36 months"},
		"no anchors at all": {nil, Pruned{Through: point, At: point}, "no signed anchor names entry 1500"},
	} {
		err := check(tt.lines, tt.p)
		if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
	}
}
