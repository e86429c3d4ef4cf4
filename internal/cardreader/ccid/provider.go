package ccid

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
)

// Level is how much of the card protocol a reader handles itself
// (dwFeatures of the CCID class descriptor).
type Level int

const (
	LevelCharacter Level = iota // the host would drive every byte: unsupported
	LevelTPDU                   // the host frames T=1 blocks (t1.go)
	LevelShortAPDU
	LevelExtendedAPDU
)

func (l Level) String() string {
	return [...]string{"character", "TPDU", "short APDU", "extended APDU"}[l]
}

// Info describes a reader.
type Info struct {
	Name  string
	Slots int // bMaxSlotIndex + 1
	Level Level
}

// Device is one CCID reader as the Provider sees it: USB in production
// (USBReader), recorded transfers in tests.
type Device interface {
	Bulk
	// Interrupt waits for the next interrupt-IN message (NotifySlotChange);
	// it returns ErrNoInterrupt when the reader has no interrupt endpoint.
	Interrupt(ctx context.Context) ([]byte, error)
	Info() Info
	Close() error
}

// ErrNoInterrupt says a reader cannot notify slot changes: Watch polls it.
var ErrNoInterrupt = errors.New("the reader has no interrupt endpoint")

// Provider is a cardreader.Provider over CCID readers.
type Provider struct {
	// PollInterval is how often Watch asks each slot for its status; 250 ms
	// when zero. Readers that notify changes are also polled, more slowly,
	// in case a notification is lost.
	PollInterval time.Duration

	open    func() ([]Device, error)
	once    sync.Once
	openErr error
	readers []*reader
}

type reader struct {
	dev  Device
	info Info
	line *line
}

// NewProvider serves the readers open returns; it is called once, on first use.
func NewProvider(open func() ([]Device, error)) *Provider { return &Provider{open: open} }

// NewUSBProvider serves every CCID reader on the USB buses.
func NewUSBProvider() *Provider { return NewProvider(OpenUSBAll) }

func (p *Provider) devices() ([]*reader, error) {
	p.once.Do(func() {
		devs, err := p.open()
		if err != nil {
			p.openErr = err
			return
		}
		for _, d := range devs {
			p.readers = append(p.readers, &reader{dev: d, info: d.Info(), line: &line{}})
		}
	})
	if p.openErr != nil {
		return nil, p.openErr
	}
	if len(p.readers) == 0 {
		return nil, cardreader.ErrNoReader
	}
	return p.readers, nil
}

// slotName names slot n of a reader as pcsc-lite does: "Name 00 00", the
// reader's index then the slot.
func slotName(info Info, idx, n int) string {
	return fmt.Sprintf("%s %02d %02d", strings.TrimSpace(info.Name), idx, n)
}

type slotRef struct {
	name string
	r    *reader
	n    byte
}

func (p *Provider) slots() ([]slotRef, error) {
	rs, err := p.devices()
	if err != nil {
		return nil, err
	}
	var out []slotRef
	for i, r := range rs {
		for n := 0; n < max(1, r.info.Slots); n++ {
			out = append(out, slotRef{slotName(r.info, i, n), r, byte(n)})
		}
	}
	return out, nil
}

func (s slotRef) slot() *Slot { return &Slot{bulk: s.r.dev, slot: s.n, line: s.r.line} }

// Readers lists the slots of every reader.
func (p *Provider) Readers(context.Context) ([]string, error) {
	ss, err := p.slots()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.name
	}
	return names, nil
}

// Connect powers the card in the named slot (the first slot holding a card
// when name is empty) and returns it.
func (p *Provider) Connect(ctx context.Context, name string) (cardreader.Card, error) {
	ss, err := p.slots()
	if err != nil {
		return nil, err
	}
	found := false
	for _, s := range ss {
		if name != "" && s.name != name {
			continue
		}
		found = true
		sl := s.slot()
		present, err := sl.Present(ctx)
		if err != nil {
			return nil, err
		}
		if !present {
			continue
		}
		if _, err := sl.PowerOn(ctx); err != nil {
			return nil, err
		}
		switch s.r.info.Level {
		case LevelTPDU:
			if err := sl.UseT1(ctx); err != nil {
				sl.PowerOff(ctx)
				return nil, fmt.Errorf("starting T=1 with the card: %w", err)
			}
		case LevelCharacter:
			sl.PowerOff(ctx)
			return nil, fmt.Errorf("reader %q exchanges characters, which is not supported", s.name)
		}
		return sl, nil
	}
	if name != "" && !found {
		return nil, fmt.Errorf("%w: no reader named %q", cardreader.ErrNoReader, name)
	}
	if name != "" {
		return nil, fmt.Errorf("%w: %s", cardreader.ErrNoCard, name)
	}
	return nil, cardreader.ErrNoCard
}

// ParseNotifySlotChange decodes RDR_to_PC_NotifySlotChange: for each slot,
// whether a card is present and whether that changed since the last one.
func ParseNotifySlotChange(b []byte) (present, changed []bool, err error) {
	if len(b) < 2 || b[0] != RDRtoPCNotifySlot {
		return nil, nil, fmt.Errorf("interrupt message % X is not a NotifySlotChange", b)
	}
	for _, c := range b[1:] {
		for i := 0; i < 4; i++ {
			present = append(present, c>>(2*i)&1 != 0)
			changed = append(changed, c>>(2*i+1)&1 != 0)
		}
	}
	return present, changed, nil
}

// Watch reports cards entering and leaving the named slots (all when none).
// It listens to each reader's NotifySlotChange messages and polls slot
// status, so readers without an interrupt endpoint work too.
func (p *Provider) Watch(ctx context.Context, names []string, fn func(cardreader.Event) bool) error {
	ss, err := p.slots()
	if err != nil {
		return err
	}
	if len(names) > 0 {
		var keep []slotRef
		for _, s := range ss {
			for _, n := range names {
				if s.name == n {
					keep = append(keep, s)
				}
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("%w: none of %q", cardreader.ErrNoReader, names)
		}
		ss = keep
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type note struct {
		r   *reader
		msg []byte
	}
	notes := make(chan note, 8)
	seen := map[*reader]bool{}
	for _, s := range ss {
		if seen[s.r] {
			continue
		}
		seen[s.r] = true
		go func(r *reader) {
			for {
				msg, err := r.dev.Interrupt(ctx)
				if err != nil {
					return
				}
				select {
				case notes <- note{r, msg}:
				case <-ctx.Done():
					return
				}
			}
		}(s.r)
	}

	known := make([]bool, len(ss))
	emit := func(i int, present bool) bool {
		if known[i] == present {
			return true
		}
		known[i] = present
		kind := cardreader.Removed
		if present {
			kind = cardreader.Inserted
		}
		return fn(cardreader.Event{Reader: ss[i].name, Kind: kind})
	}
	poll := func() (bool, error) {
		for i, s := range ss {
			present, err := s.slot().Present(ctx)
			if err != nil {
				return false, err
			}
			if !emit(i, present) {
				return false, nil
			}
		}
		return true, nil
	}
	interval := p.PollInterval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if more, err := poll(); err != nil || !more {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case n := <-notes:
			present, changed, err := ParseNotifySlotChange(n.msg)
			if err != nil {
				continue
			}
			for i, s := range ss {
				if s.r != n.r || int(s.n) >= len(present) || !changed[s.n] {
					continue
				}
				// A card pulled and put back between two looks shows
				// only as "changed": report both events.
				if known[i] && present[s.n] && !emit(i, false) {
					return nil
				}
				if !emit(i, present[s.n]) {
					return nil
				}
			}
		}
	}
}

// Close closes every reader.
func (p *Provider) Close() error {
	var errs []error
	for _, r := range p.readers {
		errs = append(errs, r.dev.Close())
	}
	return errors.Join(errs...)
}
