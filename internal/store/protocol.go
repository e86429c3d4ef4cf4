package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/sportello/sportello/internal/protocol"
)

// ProtocolCopied counts what CopyProtocol moved.
type ProtocolCopied struct {
	Entries int // registrations and annulments
	Closed  int // closed days
}

// copyChunk bounds the entries held in memory and written per transaction
// while copying: a city's year is over a million entries.
const copyChunk = 10_000

// CopyProtocol copies the protocol register of src into dst, which must
// hold none (hub migrate): every entry under its number and time, every
// closed day with its closing, and the numbering going on after them. dst
// must take imports (protocol.Importer). A register with a hole (a number
// a stopped hub left without an entry, not yet annulled by the recovery)
// is refused: the hub annuls those when it next opens the register. The
// counts are checked by reading dst back.
func CopyProtocol(ctx context.Context, dst, src Store) (ProtocolCopied, error) {
	var n ProtocolCopied
	err := dst.View(ctx, func(tx Tx) error {
		ys, err := tx.Protocol().Years()
		if err != nil {
			return err
		}
		cs, err := tx.Protocol().Closings()
		if err != nil {
			return err
		}
		if len(ys) > 0 || len(cs) > 0 {
			return fmt.Errorf("the destination's protocol register is not empty (%d years, %d closed days)", len(ys), len(cs))
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	var years []int
	last := map[int]uint64{}
	var closings []protocol.Closing
	err = src.View(ctx, func(tx Tx) error {
		p := tx.Protocol()
		var err error
		if years, err = p.Years(); err != nil {
			return err
		}
		for _, y := range years {
			l, err := p.Last(y)
			if err != nil {
				return err
			}
			last[y] = l.Seq
		}
		closings, err = p.Closings()
		return err
	})
	if err != nil {
		return n, err
	}
	put := func(es []protocol.Entry, cs []protocol.Closing) error {
		return dst.Update(ctx, func(tx Tx) error {
			imp, ok := tx.Protocol().(protocol.Importer)
			if !ok {
				return fmt.Errorf("the %s store cannot import a protocol register", dst.Backend())
			}
			return imp.Import(es, cs)
		})
	}
	for _, y := range years {
		for from := uint64(1); from <= last[y]; from += copyChunk {
			to := min(from+copyChunk-1, last[y])
			es := make([]protocol.Entry, 0, to-from+1)
			err := src.View(ctx, func(tx Tx) error {
				for seq := from; seq <= to; seq++ {
					e, err := tx.Protocol().Get(protocol.Number{Year: y, Seq: seq})
					if errors.Is(err, protocol.ErrNotFound) {
						return fmt.Errorf("the protocol register has no entry %s below the year's last, %d: open it with the hub once (hub protocol export) so the recovery annuls it, then move it", protocol.Number{Year: y, Seq: seq}, last[y])
					}
					if err != nil {
						return err
					}
					es = append(es, e)
				}
				return nil
			})
			if err != nil {
				return n, err
			}
			if err := put(es, nil); err != nil {
				return n, err
			}
			n.Entries += len(es)
		}
	}
	if len(closings) > 0 {
		if err := put(nil, closings); err != nil {
			return n, err
		}
	}
	n.Closed = len(closings)
	// The counts, read back: each year's last number (every number below
	// it has an entry, as in the source) and the closed days.
	err = dst.View(ctx, func(tx Tx) error {
		p := tx.Protocol()
		ys, err := p.Years()
		if err != nil {
			return err
		}
		if len(ys) != len(years) {
			return fmt.Errorf("the protocol register moved has %d years, the source %d", len(ys), len(years))
		}
		for _, y := range ys {
			l, err := p.Last(y)
			if err != nil {
				return err
			}
			if l.Seq != last[y] {
				return fmt.Errorf("the %d protocol register moved ends at %d, the source's at %d", y, l.Seq, last[y])
			}
		}
		cs, err := p.Closings()
		if err != nil {
			return err
		}
		if len(cs) != len(closings) {
			return fmt.Errorf("the protocol register moved has %d closed days, the source %d", len(cs), len(closings))
		}
		return nil
	})
	return n, err
}
