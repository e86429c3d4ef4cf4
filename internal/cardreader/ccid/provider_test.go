package ccid

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
)

// A TPDU-level session as a reader records it: slot status, power on, T=1
// parameters, IFS negotiation, then one APDU whose answer follows a
// waiting-time extension request.
func TestRecordedT1(t *testing.T) {
	b := &recorded{t: t, steps: []step{
		{"65 00000000 00 01 000000", []string{"81 00000000 00 01 01 00 00"}},
		{"62 00000000 00 02 000000", []string{"80 14000000 00 02 00 00 00 3B8F8001803180 65B08504001112 0FFF8290008A"}},
		{"61 07000000 00 03 010000 1110004D002000", []string{"82 07000000 00 03 00 00 01 1110004D002000"}},
		{"6F 05000000 00 04 000000 00C101FE3E", []string{"80 05000000 00 04 00 00 00 00E101FE1E"}},
		{"6F 09000000 00 05 000000 00000500B081000C38", []string{"80 05000000 00 05 00 00 00 00C30101C3"}},
		{"6F 05000000 00 06 000000 00E30101E3", []string{"80 12000000 00 06 00 00 00 00000E31323334353637383930313290009C"}},
	}}
	s := NewSlot(b, 0)
	ctx := context.Background()
	if ok, err := s.Present(ctx); err != nil || !ok {
		t.Fatalf("Present = %v, %v", ok, err)
	}
	if _, err := s.PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.UseT1(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Transmit(ctx, unhex(t, "00B081000C"))
	if err != nil || string(resp) != "123456789012\x90\x00" {
		t.Fatalf("Transmit = %X, %v", resp, err)
	}
	if b.i != len(b.steps) {
		t.Fatalf("%d of %d steps done", b.i, len(b.steps))
	}
}

func TestParseATR(t *testing.T) {
	tests := []struct {
		atr  string
		t1   bool
		ifsc int
		hist int
	}{
		{"3B8F8001803180 65B08504001112 0FFF8290008A", true, 32, 15}, // the Gemalto CIE
		{"3B 80 80 31 FE 45 8A", true, 254, 0},                       // TA3 gives IFSC
		{"3B 02 14 50", false, 32, 2},                                // T=0 only
	}
	for _, tt := range tests {
		i, err := ParseATR(unhex(t, tt.atr))
		if err != nil || i.T1 != tt.t1 || i.IFSC != tt.ifsc || len(i.Historical) != tt.hist {
			t.Errorf("%s: %+v, %v; want T1 %v IFSC %d and %d historical bytes", tt.atr, i, err, tt.t1, tt.ifsc, tt.hist)
		}
	}
	for _, bad := range []string{"3B8F80", "3B 80 80 31 00 45", "12 00"} {
		if _, err := ParseATR(unhex(t, bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseClassDescriptor(t *testing.T) {
	ccidDesc := func(maxSlot byte, features uint32) []byte {
		d := make([]byte, 0x36)
		d[0], d[1], d[4] = 0x36, 0x21, maxSlot
		binary.LittleEndian.PutUint32(d[40:], features)
		return d
	}
	cfg := []byte{0x09, 0x02, 0, 0, 0x02, 0x01, 0x00, 0x80, 0x32}
	hid := append([]byte{0x09, 0x04, 0x00, 0x00, 0x01, 0x03, 0, 0, 0}, 0x09, 0x21, 0x11, 0x01, 0, 1, 0x22, 0x40, 0)
	tests := []struct {
		name  string
		raw   []byte
		slots int
		level Level
		ok    bool
	}{
		{"extended APDU", concat(cfg, []byte{0x09, 0x04, 0x00, 0x00, 0x03, 0x0B, 0, 0, 0}, ccidDesc(0, 0x000404BA)), 1, LevelExtendedAPDU, true},
		{"TPDU, two slots, after a HID", concat(cfg, hid, []byte{0x09, 0x04, 0x01, 0x00, 0x03, 0x0B, 0, 0, 0}, ccidDesc(1, 0x00010230)), 2, LevelTPDU, true},
		{"HID only", concat(cfg, hid), 0, 0, false},
		{"truncated", concat(cfg, []byte{0x09, 0x04, 0x00, 0x00, 0x03, 0x0B, 0, 0, 0}, ccidDesc(0, 0x20000)[:20]), 0, 0, false},
	}
	for _, tt := range tests {
		slots, level, ok := ParseClassDescriptor(tt.raw)
		if slots != tt.slots || level != tt.level || ok != tt.ok {
			t.Errorf("%s: %d %v %v, want %d %v %v", tt.name, slots, level, ok, tt.slots, tt.level, tt.ok)
		}
	}
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// simReader is a CCID reader in memory: a slot that may hold the virtual
// CIE, exchanging APDUs or (at TPDU level) T=1 blocks with a card-side T=1
// engine, with NotifySlotChange messages on a channel.
type simReader struct {
	mu     sync.Mutex
	level  Level
	card   *virtual.Card
	out    [][]byte
	notify chan []byte // nil: no interrupt endpoint
	cardT1 *cardT1
}

func (r *simReader) Info() Info   { return Info{Name: "Sim Reader", Slots: 1, Level: r.level} }
func (r *simReader) Close() error { return nil }

func (r *simReader) Interrupt(ctx context.Context) ([]byte, error) {
	if r.notify == nil {
		return nil, ErrNoInterrupt
	}
	select {
	case m := <-r.notify:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *simReader) set(card *virtual.Card) {
	r.mu.Lock()
	r.card = card
	r.mu.Unlock()
	if r.notify != nil {
		r.notify <- []byte{RDRtoPCNotifySlot, map[bool]byte{true: 0x03, false: 0x02}[card != nil]}
	}
}

func (r *simReader) Write(_ context.Context, m []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	reply := func(typ, status byte, data []byte) {
		msg := Encode(typ, m[5], m[6], [3]byte{status}, data)
		if status&0x40 != 0 {
			msg[8] = errICCMute
		}
		r.out = append(r.out, msg)
	}
	if r.card == nil {
		reply(map[bool]byte{true: RDRtoPCSlotStatus, false: RDRtoPCDataBlock}[m[0] == PCtoRDRGetSlotStatus || m[0] == PCtoRDRIccPowerOff], 0x42, nil)
		return nil
	}
	switch m[0] {
	case PCtoRDRIccPowerOn:
		r.card.Reset()
		r.cardT1 = &cardT1{card: r.card, ifsd: 32}
		reply(RDRtoPCDataBlock, 0, r.card.ATR())
	case PCtoRDRSetParameters:
		reply(RDRtoPCParameters, 0, m[headerSize:])
	case PCtoRDRXfrBlock:
		if r.level == LevelTPDU {
			reply(RDRtoPCDataBlock, 0, r.cardT1.block(m[headerSize:]))
		} else {
			reply(RDRtoPCDataBlock, 0, r.card.Process(m[headerSize:]))
		}
	default:
		reply(RDRtoPCSlotStatus, 0, nil)
	}
	return nil
}

func (r *simReader) Read(context.Context) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.out) == 0 {
		return nil, errors.New("nothing to read")
	}
	m := r.out[0]
	r.out = r.out[1:]
	return m, nil
}

// cardT1 is the card's side of T=1: it collects chained I-blocks, answers
// in blocks of at most ifsd bytes, and asks for a waiting-time extension
// before every third answer.
type cardT1 struct {
	card    *virtual.Card
	ifsd    int
	ns, nr  byte
	in      []byte
	pending []byte
	n       int
	wtx     bool
}

func (c *cardT1) block(b []byte) []byte {
	pcb, inf, err := parseBlock(b)
	if err != nil {
		return t1Block(pcbR|c.nr<<4|0x01, nil)
	}
	switch {
	case pcb == sIFSRequest:
		c.ifsd = int(inf[0])
		return t1Block(sIFSReply, inf)
	case pcb == sWTXReply:
		return c.answer()
	case isR(pcb):
		return c.answer()
	case isI(pcb):
		c.nr ^= 1
		c.in = append(c.in, inf...)
		if pcb&0x20 != 0 {
			return t1Block(pcbR|c.nr<<4, nil)
		}
		c.pending = c.card.Process(c.in)
		c.in = nil
		if c.n++; c.n%3 == 0 {
			return t1Block(sWTXRequest, []byte{0x02})
		}
		return c.answer()
	}
	return t1Block(pcbR|c.nr<<4|0x02, nil)
}

func (c *cardT1) answer() []byte {
	n := min(c.ifsd, len(c.pending))
	p := c.ns << 6
	if n < len(c.pending) {
		p |= 0x20
	}
	blk := t1Block(p, c.pending[:n])
	c.pending = c.pending[n:]
	c.ns ^= 1
	return blk
}

func TestProviderConnect(t *testing.T) {
	ca, _ := virtual.TestCSCA()
	auth, err := virtual.TestDeviceAuth()
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []Level{LevelShortAPDU, LevelTPDU} {
		t.Run(level.String(), func(t *testing.T) {
			card, _ := virtual.New(virtual.Config{NIS: "111222333444"})
			empty := &simReader{level: level}
			full := &simReader{level: level, card: card}
			p := NewProvider(func() ([]Device, error) { return []Device{empty, full}, nil })
			defer p.Close()
			ctx := context.Background()
			names, err := p.Readers(ctx)
			if err != nil || len(names) != 2 || names[0] != "Sim Reader 00 00" || names[1] != "Sim Reader 01 00" {
				t.Fatalf("Readers = %q, %v", names, err)
			}
			if _, err := p.Connect(ctx, names[0]); !errors.Is(err, cardreader.ErrNoCard) {
				t.Fatalf("empty slot: %v, want ErrNoCard", err)
			}
			if _, err := p.Connect(ctx, "Elsewhere 00 00"); !errors.Is(err, cardreader.ErrNoReader) {
				t.Fatalf("unknown reader: %v, want ErrNoReader", err)
			}
			c, err := p.Connect(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			r, err := cie.ReadLevel1(ctx, c, cie.Options{CSCAs: []*x509.Certificate{ca}, Now: now})
			if err != nil || !r.Verified() || r.NIS != "111222333444" {
				t.Fatalf("level 1 over %s: %v %+v", level, err, r)
			}
			var pe *cie.PINError
			if err := cie.VerifyPIN(ctx, c, []byte("99999999"), cie.PINOptions{Auth: auth}); !errors.As(err, &pe) || pe.TriesLeft != 2 {
				t.Fatalf("wrong PIN over %s: %v", level, err)
			}
			if err := cie.VerifyPIN(ctx, c, []byte(virtual.DemoPIN), cie.PINOptions{Auth: auth}); err != nil {
				t.Fatalf("PIN over %s: %v", level, err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := NewProvider(func() ([]Device, error) { return nil, nil }).Readers(context.Background()); !errors.Is(err, cardreader.ErrNoReader) {
		t.Fatalf("no readers: %v", err)
	}
}

func TestProviderWatch(t *testing.T) {
	for _, notify := range []bool{true, false} {
		name := map[bool]string{true: "NotifySlotChange", false: "polling"}[notify]
		t.Run(name, func(t *testing.T) {
			card, _ := virtual.New(virtual.Config{})
			r := &simReader{level: LevelShortAPDU, card: card}
			if notify {
				r.notify = make(chan []byte, 4)
			}
			p := NewProvider(func() ([]Device, error) { return []Device{r}, nil })
			p.PollInterval = time.Millisecond
			if notify {
				p.PollInterval = time.Hour // only notifications can wake it
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			events := make(chan cardreader.Event, 8)
			done := make(chan error, 1)
			go func() {
				n := 0
				done <- p.Watch(ctx, nil, func(e cardreader.Event) bool {
					events <- e
					n++
					return n < 3
				})
			}()
			want := []cardreader.EventKind{cardreader.Inserted, cardreader.Removed, cardreader.Inserted}
			for i, k := range want {
				select {
				case e := <-events:
					if e.Kind != k || e.Reader != "Sim Reader 00 00" {
						t.Fatalf("event %d = %+v, want %v", i, e, k)
					}
				case <-ctx.Done():
					t.Fatalf("no event %d", i)
				}
				switch i {
				case 0:
					r.set(nil)
				case 1:
					r.set(card)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseNotifySlotChange(t *testing.T) {
	present, changed, err := ParseNotifySlotChange([]byte{0x50, 0x0B})
	if err != nil || !present[0] || !changed[0] || present[1] || !changed[1] || present[2] || changed[2] {
		t.Fatalf("%v %v %v", present, changed, err)
	}
	if _, _, err := ParseNotifySlotChange([]byte{0x51, 0x03}); err == nil {
		t.Fatal("a hardware-error message parsed as a slot change")
	}
}

// The reader and card are untrusted: no ATR, block or descriptor may panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0x3B, 0x8F, 0x80, 0x01, 0x80, 0x31, 0x80, 0x65})
	f.Add(t1Block(0x20, []byte{1, 2, 3}))
	f.Add([]byte{0x09, 0x04, 0, 0, 3, 0x0B, 0, 0, 0, 0x36, 0x21})
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseATR(b)
		parseBlock(b)
		ParseClassDescriptor(b)
		ParseNotifySlotChange(b)
	})
}
