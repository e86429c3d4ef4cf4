// Package pcsc reaches smart cards through pcscd with github.com/ebfe/scard
// (cgo, libpcsclite). Only the kiosk imports it.
package pcsc

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ebfe/scard"

	"github.com/sportello/sportello/internal/cardreader"
)

// Provider is a PC/SC context.
type Provider struct {
	mu  sync.Mutex
	ctx *scard.Context
}

// serviceHint names the service PC/SC needs where this kiosk runs.
var serviceHint = func() string {
	if runtime.GOOS == "windows" {
		return "is the Windows Smart Card service running, with a reader's driver installed?"
	}
	return "is pcscd running?"
}()

// New establishes a PC/SC context; it fails when pcscd (on Windows, the
// Smart Card service) is not running.
func New() (*Provider, error) {
	c, err := scard.EstablishContext()
	if err != nil {
		return nil, fmt.Errorf("could not reach the PC/SC service (%s): %w", serviceHint, err)
	}
	return &Provider{ctx: c}, nil
}

// Readers lists the reader names.
func (p *Provider) Readers(context.Context) ([]string, error) {
	names, err := p.ctx.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) || (err == nil && len(names) == 0) {
		return nil, cardreader.ErrNoReader
	}
	return names, err
}

// Connect connects to the card in reader (the first reader with a card when empty).
func (p *Provider) Connect(ctx context.Context, reader string) (cardreader.Card, error) {
	if reader == "" {
		names, err := p.Readers(ctx)
		if err != nil {
			return nil, err
		}
		states := make([]scard.ReaderState, len(names))
		for i, n := range names {
			states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
		}
		if err := p.ctx.GetStatusChange(states, 0); err != nil && !errors.Is(err, scard.ErrTimeout) {
			return nil, err
		}
		for _, s := range states {
			if s.EventState&scard.StatePresent != 0 {
				reader = s.Reader
				break
			}
		}
		if reader == "" {
			return nil, cardreader.ErrNoCard
		}
	}
	c, err := p.ctx.Connect(reader, scard.ShareExclusive, scard.ProtocolAny)
	switch {
	case errors.Is(err, scard.ErrNoSmartcard), errors.Is(err, scard.ErrRemovedCard):
		return nil, fmt.Errorf("%w: %s", cardreader.ErrNoCard, reader)
	case errors.Is(err, scard.ErrUnknownReader):
		return nil, fmt.Errorf("%w: no reader named %q", cardreader.ErrNoReader, reader)
	case err != nil:
		return nil, fmt.Errorf("could not connect to the card in %q: %w", reader, err)
	}
	st, err := c.Status()
	if err != nil {
		c.Disconnect(scard.ResetCard)
		return nil, err
	}
	return &card{c: c, atr: st.Atr, reader: reader}, nil
}

// Watch reports insertions and removals with SCardGetStatusChange.
func (p *Provider) Watch(ctx context.Context, readers []string, fn func(cardreader.Event) bool) error {
	if len(readers) == 0 {
		var err error
		if readers, err = p.Readers(ctx); err != nil {
			return err
		}
	}
	states := make([]scard.ReaderState, len(readers))
	for i, n := range readers {
		states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
	}
	present := make([]bool, len(readers))
	for ctx.Err() == nil {
		// A short timeout rather than Cancel keeps the loop simple: ctx is
		// checked every half second.
		err := p.ctx.GetStatusChange(states, 500*time.Millisecond)
		if errors.Is(err, scard.ErrTimeout) {
			continue
		}
		if err != nil {
			return fmt.Errorf("watching the card readers: %w", err)
		}
		for i := range states {
			now := states[i].EventState&scard.StatePresent != 0
			if now != present[i] {
				present[i] = now
				e := cardreader.Event{Reader: states[i].Reader, Kind: cardreader.Removed}
				if now {
					e.Kind, e.ATR = cardreader.Inserted, append([]byte(nil), states[i].Atr...)
				}
				if !fn(e) {
					return nil
				}
			}
			states[i].CurrentState = states[i].EventState &^ scard.StateChanged
		}
	}
	return ctx.Err()
}

// Close releases the PC/SC context.
func (p *Provider) Close() error { return p.ctx.Release() }

type card struct {
	c      *scard.Card
	atr    []byte
	reader string
}

func (c *card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := c.c.Transmit(apdu)
	if errors.Is(err, scard.ErrRemovedCard) || errors.Is(err, scard.ErrResetCard) || errors.Is(err, scard.ErrNoSmartcard) {
		return nil, fmt.Errorf("%w (%s)", ErrRemoved, c.reader)
	}
	if err == nil && len(r) < 2 {
		// pcscd answers an empty response when the reader lost the card mid-exchange.
		return nil, fmt.Errorf("%w (%s gave no status word)", ErrRemoved, c.reader)
	}
	return r, err
}

func (c *card) ATR() []byte  { return c.atr }
func (c *card) Close() error { return c.c.Disconnect(scard.LeaveCard) }

// ErrRemoved is a card pulled out during an exchange.
var ErrRemoved = errors.New("the card was removed from the reader during the read")
