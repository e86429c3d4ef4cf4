package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/cmdline"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(command{Name: "protocol export", Usage: "--data DIR --day YYYY-MM-DD [--out FILE.csv]", Help: "write the daily protocol register", Run: (*cli).protocolExport})
}

// recoverProtocol annuls the protocol numbers a stopped hub left reserved
// without an entry (hubcore.RecoverProtocol); the store records each
// annulment in the audit log in the transaction that writes it. On the
// hub's own file the numbering of the anchoring store anchors the entries
// it recorded. log (nil: none) hears of each.
func (c *cli) recoverProtocol(ctx context.Context, h *hubFile, log *slog.Logger) error {
	if h.file != "" {
		if _, err := c.auditStore(h, nil, nil); err != nil { // h.stores anchors from now on
			return err
		}
	}
	return hubcore.RecoverProtocol(ctx, h.stores, c.now, log)
}

func (c *cli) protocolExport(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub protocol export")
	data := c.dataFlag(fs)
	dayFlag := fs.String("day", "", "the day, YYYY-MM-DD")
	out := fs.String("out", "", "write the CSV here instead of standard output")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	day, err := protocol.ParseDay(*dayFlag)
	if err != nil {
		return usagef("%v", err)
	}
	return c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
		if err := c.recoverProtocol(ctx, h, nil); err != nil {
			return err
		}
		numbers := h.stores.Numbering()
		// A day that is over is closed by its export: the register sent to
		// conservation must not change afterwards, so nothing more is filed
		// into it, and every later export of it gives the same bytes. A day
		// not over yet is exported as it stands, and stays open.
		var entries []protocol.Entry
		var closing protocol.Closing
		over := day.Before(protocol.DayOf(c.now()))
		if over {
			closing, entries, err = numbers.CloseDay(ctx, day, c.now())
		} else {
			err = h.stores.View(ctx, func(tx store.Tx) (err error) { entries, err = tx.Protocol().Day(day); return err })
		}
		if err != nil {
			return err
		}
		state := fmt.Sprintf("%s is not over: the register is provisional and the day stays open", day)
		if over {
			state = fmt.Sprintf("the register of %s is closed (since %s)", day, closing.Closed.In(protocol.Rome).Format(time.RFC3339))
		}
		// A closed day is written in the layout it was closed with, so a
		// day closed before the register's codes were in the CSV still
		// gives its bytes.
		layout := protocol.CSVFormat
		if over {
			layout = closing.CSVLayout()
		}
		var b strings.Builder
		sum, err := protocol.WriteCSVFormat(&b, day, entries, layout)
		if err != nil {
			return err
		}
		if over && sum != closing.SHA256 {
			return fmt.Errorf("the register of %s was closed with SHA-256 %x but exports as %x; restore the backup", day, closing.SHA256, sum)
		}
		if *out == "" {
			if _, err := io.WriteString(c.stdout, b.String()); err != nil {
				return err
			}
			fmt.Fprintf(c.stderr, "%d entries, sha-256 %x; %s\n", len(entries), sum, state)
			return nil
		}
		if err := atomicfile.Write(c.path(*out), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("cannot write %s: %v", *out, err)
		}
		fmt.Fprintf(c.stdout, "wrote %d entries of %s to %s, sha-256 %x; %s\n", len(entries), day, *out, sum, state)
		return nil
	})
}
