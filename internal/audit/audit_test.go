package audit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/protocol"
)

var t0 = time.Date(2026, 11, 23, 9, 30, 0, 0, protocol.Rome)

func entry(i int) Entry {
	return Entry{
		Time:    t0.Add(time.Duration(i) * 7 * time.Hour),
		Actor:   Actor{Kind: Staff, ID: []string{"mrossi", "lbianchi"}[i%2]},
		Purpose: "verifica residenza, art. 33 DPR 223/1989",
		Subject: []string{"rssmra50b17a558w", "CCCFBA85D03L219P", "MRTMRA83T56A269B"}[i%3],
		Data:    "scheda anagrafica",
		Channel: "cli",
		Request: strings.Repeat("r", i),
	}
}

// chain builds n records as a store would write them.
func chain(t testing.TB, n int) ([][]byte, Head) {
	t.Helper()
	var h Head
	var recs [][]byte
	for i := 0; i < n; i++ {
		e := entry(i)
		rec, next, err := Next(h, &e)
		if err != nil {
			t.Fatal(err)
		}
		recs, h = append(recs, rec), next
	}
	return recs, h
}

func TestNextAndDecodeRoundTrip(t *testing.T) {
	e := entry(4)
	e.Time = e.Time.Add(123456789 * time.Nanosecond)
	rec, h, err := Next(Head{Seq: 41, Hash: Hash{1}}, &e)
	if err != nil {
		t.Fatal(err)
	}
	if h.Seq != 42 || e.Seq != 42 || e.Subject != "CCCFBA85D03L219P" {
		t.Fatalf("head %v, entry %+v", h, e)
	}
	got, stored, err := Decode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if stored != h.Hash || got != e || !got.Time.Equal(entry(4).Time.Add(123456789)) {
		t.Errorf("decoded %+v %v\nwant    %+v %v", got, stored, e, h.Hash)
	}
	if Link(Hash{1}, &got) != stored {
		t.Error("the stored hash is not the link of the previous hash and the entry")
	}
	// The hash depends on the previous one, not only on the entry.
	if Link(Hash{2}, &got) == stored {
		t.Error("the hash ignores the previous hash")
	}
}

func TestCanonicalEncodingSeparatesFields(t *testing.T) {
	// Moving text from one field to the next must change the hash.
	a, b := entry(1), entry(1)
	a.Data, a.Channel = "scheda", "anagrafica"
	b.Data, b.Channel = "schedaanag", "rafica"
	if Link(Hash{}, &a) == Link(Hash{}, &b) {
		t.Error("two entries with the same concatenated text hash alike")
	}
	// The zone the clock reports in is not part of the entry.
	c, d := entry(1), entry(1)
	c.Time = c.Time.UTC()
	if Link(Hash{}, &c) != Link(Hash{}, &d) {
		t.Error("the same instant in another zone hashes differently")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Entry)
		want string // "" for valid
	}{
		{"valid", func(*Entry) {}, ""},
		{"operator", func(e *Entry) { e.Actor = Actor{Operator, "op-12"} }, ""},
		{"no time", func(e *Entry) { e.Time = time.Time{} }, "no time"},
		{"absurd time", func(e *Entry) { e.Time = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) }, "plausible"},
		{"unknown kind", func(e *Entry) { e.Actor.Kind = "hacker" }, "not one of"},
		{"no actor id", func(e *Entry) { e.Actor.ID = " " }, "no identifier"},
		{"no purpose", func(e *Entry) { e.Purpose = "" }, "purpose"},
		{"no subject", func(e *Entry) { e.Subject = "" }, "subject"},
		{"no data", func(e *Entry) { e.Data = "" }, "data read"},
		{"no channel", func(e *Entry) { e.Channel = "" }, "channel"},
		{"bad utf-8", func(e *Entry) { e.Purpose = "\xff" }, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := entry(0)
			tt.edit(&e)
			err := e.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an ErrInvalid mentioning %q", err, tt.want)
			}
			if _, _, err := Next(Head{}, &e); err == nil {
				t.Error("Next accepted an invalid entry")
			}
		})
	}
}

func TestParse(t *testing.T) {
	a, err := ParseActor("device:k-9")
	if err != nil || a != (Actor{Device, "k-9"}) || a.String() != "device:k-9" {
		t.Errorf("ParseActor: %v %v", a, err)
	}
	for _, bad := range []string{"mrossi", "boss:mrossi", "staff:", ""} {
		if _, err := ParseActor(bad); err == nil {
			t.Errorf("ParseActor(%q) accepted", bad)
		}
	}
	_, h := chain(t, 3)
	got, err := ParseHead(h.String())
	if err != nil || got != h {
		t.Errorf("ParseHead(%s) = %v, %v", h, got, err)
	}
	for _, bad := range []string{"0:" + h.Hash.String(), "3", "3:abc", "x:" + h.Hash.String()} {
		if _, err := ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) accepted", bad)
		}
	}
}

func TestVerifier(t *testing.T) {
	recs, head := chain(t, 8)
	_, mid := chain(t, 5) // the head after entry 5, as an anchor would hold it
	flip := func(i, at int) [][]byte {
		out := append([][]byte(nil), recs...)
		out[i] = bytes.Clone(out[i])
		out[i][at] ^= 1
		return out
	}
	type stored struct {
		key uint64
		rec []byte
	}
	all := func(rs [][]byte) []stored {
		var out []stored
		for i, r := range rs {
			out = append(out, stored{uint64(i + 1), r})
		}
		return out
	}
	without := func(s []stored, keys ...uint64) []stored {
		var out []stored
	next:
		for _, x := range s {
			for _, k := range keys {
				if x.key == k {
					continue next
				}
			}
			out = append(out, x)
		}
		return out
	}
	swapped := all(recs)
	swapped[2].rec, swapped[3].rec = swapped[3].rec, swapped[2].rec

	tests := []struct {
		name     string
		recs     []stored
		recorded Head
		anchors  []Anchor
		seq      uint64 // 0: intact
		problem  string
	}{
		{"intact", all(recs), head, []Anchor{{Day: protocol.DayOf(t0), Head: mid}}, 0, ""},
		{"empty", nil, Head{}, nil, 0, ""},
		{"edited time", all(flip(3, 12)), head, nil, 4, "does not match its hash"},
		{"edited hash", all(flip(0, len(recs[0])-1)), head, nil, 1, "does not match its hash"},
		{"edited length", all(flip(5, 17)), head, nil, 6, "cannot be read"},
		{"deleted middle", without(all(recs), 4), head, nil, 4, "is missing"},
		{"deleted two", without(all(recs), 4, 5), head, nil, 4, "with the 1 after it"},
		{"cut tail", without(all(recs), 7, 8), head, nil, 7, "tail was cut"},
		{"cut tail and head", without(all(recs), 6, 7, 8), mid, []Anchor{{Head: head}}, 6, "tail was cut"},
		{"swapped pair", swapped, head, nil, 3, "holds the content of entry 4"},
		{"head hash", all(recs), Head{Seq: 8, Hash: mid.Hash}, nil, 8, "recorded head"},
		{"beyond head", all(recs), mid, nil, 6, "beyond the recorded head"},
		{"anchor mismatch", all(recs), head, []Anchor{{Head: Head{Seq: 5, Hash: head.Hash}}}, 5, "anchor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVerifier(tt.anchors...)
			var err error
			for _, s := range tt.recs {
				if _, err = v.Add(s.key, s.rec); err != nil {
					break
				}
			}
			got, ferr := v.Finish(tt.recorded)
			if err == nil {
				err = ferr
			}
			if tt.seq == 0 {
				if err != nil || got != tt.recorded {
					t.Fatalf("got %v, %v; want intact at %v", got, err, tt.recorded)
				}
				return
			}
			var b *Break
			if !errors.As(err, &b) || !errors.Is(err, ErrBroken) {
				t.Fatalf("got %v, want a *Break", err)
			}
			if b.Seq != tt.seq || !strings.Contains(b.Problem, tt.problem) {
				t.Errorf("got %q, want entry %d and %q", err, tt.seq, tt.problem)
			}
		})
	}
}

func TestQueryMatch(t *testing.T) {
	e := entry(1)
	if _, _, err := Next(Head{}, &e); err != nil {
		t.Fatal(err)
	}
	day := protocol.DayOf(e.Time)
	next := protocol.DayOf(e.Time.Add(24 * time.Hour))
	tests := []struct {
		q    Query
		want bool
	}{
		{Query{}, true},
		{Query{Subject: "cccfba85d03l219p"}, true},
		{Query{Subject: "RSSMRA50B17A558W"}, false},
		{Query{Actor: "lbianchi"}, true},
		{Query{Actor: "staff:lbianchi"}, true},
		{Query{Actor: "operator:lbianchi"}, false},
		{Query{From: day, To: day}, true},
		{Query{From: next}, false},
		{Query{To: day}, true},
		{Query{Actor: "lbianchi", From: next}, false},
	}
	for _, tt := range tests {
		if got := tt.q.Match(&e); got != tt.want {
			t.Errorf("%+v matches %v, want %v", tt.q, got, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	recs, _ := chain(f, 4)
	for _, r := range recs {
		f.Add(r)
	}
	f.Add([]byte{version})
	f.Fuzz(func(t *testing.T, rec []byte) {
		e, h, err := Decode(rec)
		if err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("error %v does not wrap ErrDamaged", err)
			}
			return
		}
		// Whatever decodes is in canonical form: re-encoding gives it back.
		again := append(e.AppendCanonical(nil), h[:]...)
		if !bytes.Equal(again, rec) {
			t.Fatalf("%x decodes but re-encodes as %x", rec, again)
		}
	})
}
