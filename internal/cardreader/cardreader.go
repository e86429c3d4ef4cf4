// Package cardreader puts the ways a kiosk reaches a smart card behind one
// interface: PC/SC through pcscd (package pcsc), CCID straight over USB for
// kiosks without pcscd (package ccid), and an in-process card for demos and
// tests (InProcess). The hub never imports the cgo-backed subpackages.
package cardreader

import (
	"context"
	"errors"
	"sync"

	"github.com/sportello/sportello/internal/iso7816"
)

// Card is a connected card: APDUs in, answers out.
type Card interface {
	iso7816.Transport
	ATR() []byte
	Close() error
}

// EventKind says what happened in a reader.
type EventKind int

const (
	Inserted EventKind = iota + 1
	Removed
)

func (k EventKind) String() string {
	switch k {
	case Inserted:
		return "inserted"
	case Removed:
		return "removed"
	}
	return "unknown"
}

// Event is a card entering or leaving a reader.
type Event struct {
	Reader string
	Kind   EventKind
	ATR    []byte // for Inserted, when known
}

// Provider lists readers, connects to cards and reports insertions and removals.
type Provider interface {
	Readers(ctx context.Context) ([]string, error)
	Connect(ctx context.Context, reader string) (Card, error)
	// Watch calls fn for each change in the named readers (all when none)
	// until ctx ends or fn returns false. A card already present is reported
	// as Inserted first.
	Watch(ctx context.Context, readers []string, fn func(Event) bool) error
	Close() error
}

// ErrNoReader and ErrNoCard are the two things a person at a kiosk can fix.
var (
	ErrNoReader = errors.New("no card reader is connected")
	ErrNoCard   = errors.New("no card is in the reader")
)

// Processor is a card that lives in this process (the virtual CIE).
type Processor interface {
	Process(apdu []byte) []byte
	ATR() []byte
	Reset()
}

// InProcess is a Provider with one reader holding an in-process card.
type InProcess struct {
	Name string
	ch   chan Event

	mu   sync.Mutex // guards card: a test inserts and removes while a watcher reads
	card Processor
}

// NewInProcess puts card in a reader called name.
func NewInProcess(name string, card Processor) *InProcess {
	return &InProcess{Name: name, card: card, ch: make(chan Event, 8)}
}

func (p *InProcess) Readers(context.Context) ([]string, error) { return []string{p.Name}, nil }

func (p *InProcess) Connect(_ context.Context, reader string) (Card, error) {
	if reader != "" && reader != p.Name {
		return nil, ErrNoReader
	}
	card := p.current()
	if card == nil {
		return nil, ErrNoCard
	}
	card.Reset()
	return inProcessCard{card}, nil
}

func (p *InProcess) current() Processor {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.card
}

func (p *InProcess) set(card Processor) {
	p.mu.Lock()
	p.card = card
	p.mu.Unlock()
}

// Insert and Remove change the card, reporting the event to watchers.
func (p *InProcess) Insert(card Processor) {
	p.set(card)
	p.ch <- Event{Reader: p.Name, Kind: Inserted, ATR: card.ATR()}
}

func (p *InProcess) Remove() {
	p.set(nil)
	p.ch <- Event{Reader: p.Name, Kind: Removed}
}

func (p *InProcess) Watch(ctx context.Context, _ []string, fn func(Event) bool) error {
	if card := p.current(); card != nil && !fn(Event{Reader: p.Name, Kind: Inserted, ATR: card.ATR()}) {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-p.ch:
			if !fn(e) {
				return nil
			}
		}
	}
}

func (p *InProcess) Close() error { return nil }

type inProcessCard struct{ p Processor }

func (c inProcessCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.p.Process(apdu), nil
}
func (c inProcessCard) ATR() []byte  { return c.p.ATR() }
func (c inProcessCard) Close() error { return nil }
