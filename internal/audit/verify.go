package audit

import (
	"errors"
	"fmt"

	"github.com/sportello/sportello/internal/protocol"
)

// ErrBroken is wrapped by every *Break.
var ErrBroken = errors.New("audit chain broken")

// Break is the first place where the stored chain is not what was written.
type Break struct {
	// Seq is the number of the first entry that is wrong or missing.
	Seq     uint64
	Problem string
}

func (b *Break) Error() string { return fmt.Sprintf("audit entry %d %s", b.Seq, b.Problem) }
func (b *Break) Unwrap() error { return ErrBroken }

// Verifier walks a stored chain in number order and finds its first break.
// It holds one hash, not the entries, so a chain of any length is checked
// in constant memory.
type Verifier struct {
	head    Head
	anchors map[uint64][]Anchor
	broken  *Break
	// matched is the last entry whose hash an anchor confirmed: a rewrite
	// found at a later anchor began after it.
	matched uint64
}

// NewVerifier returns a Verifier that also checks the chain against anchors:
// the ones the store kept and, better, ones printed or published earlier,
// which an insider rewriting the file cannot reach. An anchor with a zero
// Day is one given by hand.
func NewVerifier(anchors ...Anchor) *Verifier {
	v := &Verifier{anchors: map[uint64][]Anchor{}}
	for _, a := range anchors {
		if a.Seq > 0 {
			v.anchors[a.Seq] = append(v.anchors[a.Seq], a)
		}
	}
	return v
}

func anchorName(a Anchor) string {
	if a.Source != "" {
		return a.Source
	}
	if a.Day == (protocol.Day{}) {
		return "the anchor " + a.Head.String() + " given"
	}
	return "the anchor of " + a.Day.String()
}

func (v *Verifier) fail(seq uint64, format string, args ...any) error {
	v.broken = &Break{Seq: seq, Problem: fmt.Sprintf(format, args...)}
	return v.broken
}

// Add checks the next stored record, found under number key, and returns
// its entry. After the first break it returns that break and checks
// nothing more.
func (v *Verifier) Add(key uint64, record []byte) (Entry, error) {
	if v.broken != nil {
		return Entry{}, v.broken
	}
	want := v.head.Seq + 1
	switch {
	case key > want && key == want+1:
		return Entry{}, v.fail(want, "is missing: the log goes from entry %d to entry %d", v.head.Seq, key)
	case key > want:
		return Entry{}, v.fail(want, "is missing, with the %d after it: the log goes from entry %d to entry %d", key-want-1, v.head.Seq, key)
	case key < want:
		return Entry{}, v.fail(key, "comes after entry %d in the file: the log is out of order", v.head.Seq)
	}
	e, stored, err := Decode(record)
	if err != nil {
		return Entry{}, v.fail(key, "cannot be read: %v", err)
	}
	if e.Seq != key {
		return Entry{}, v.fail(key, "holds the content of entry %d: entries were moved or swapped", e.Seq)
	}
	if Link(v.head.Hash, &e) != stored {
		if v.head.Seq == 0 {
			return Entry{}, v.fail(key, "does not match its hash: a field of it was changed")
		}
		return Entry{}, v.fail(key, "does not match its hash: a field of it was changed, or entry %d was rewritten before it", v.head.Seq)
	}
	for _, a := range v.anchors[key] {
		if a.Hash != stored {
			if v.matched > 0 {
				return Entry{}, v.fail(key, "has hash %s, not the %s recorded in %s: the log was rewritten after entry %d, the last that matches an anchor",
					stored, a.Hash, anchorName(a), v.matched)
			}
			return Entry{}, v.fail(key, "has hash %s, not the %s recorded in %s: the log was rewritten", stored, a.Hash, anchorName(a))
		}
	}
	if len(v.anchors[key]) > 0 {
		v.matched = key
	}
	v.head = Head{Seq: key, Hash: stored}
	return e, nil
}

// Finish compares the end of the walk with the head the store recorded and
// with the anchors, and returns the verified head. A chain shorter than
// either was cut.
func (v *Verifier) Finish(recorded Head) (Head, error) {
	if v.broken != nil {
		return v.head, v.broken
	}
	last := v.head.Seq
	switch {
	case recorded.Seq > last:
		return v.head, v.fail(last+1, "is missing: the recorded head is entry %d but the log ends at entry %d, so its tail was cut", recorded.Seq, last)
	case recorded.Seq < last:
		return v.head, v.fail(recorded.Seq+1, "is beyond the recorded head (entry %d): it was added outside the log", recorded.Seq)
	case recorded.Hash != v.head.Hash:
		return v.head, v.fail(last, "has hash %s, not the %s of the recorded head: the log was rewritten", v.head.Hash, recorded.Hash)
	}
	var beyond, furthest uint64
	for seq := range v.anchors {
		if seq > last && (beyond == 0 || seq < beyond) {
			beyond = seq
		}
		furthest = max(furthest, seq)
	}
	if beyond > 0 {
		reach := ""
		if furthest > beyond {
			reach = fmt.Sprintf(" (the anchors reach entry %d)", furthest)
		}
		return v.head, v.fail(last+1, "is missing: %s names entry %d but the log ends at entry %d, so its tail was cut%s",
			anchorName(v.anchors[beyond][0]), beyond, last, reach)
	}
	return v.head, nil
}
