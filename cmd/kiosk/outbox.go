package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/keystore"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/outbox"
)

func init() {
	register(
		command{Name: "outbox list", Usage: "[--profile DIR] [--secret-stdin | --secret-file FILE]",
			Help: "list the sales waiting for the hub and those set aside (refused by the hub, or the hub failed on them), with why, and the offline limits in force",
			Run:  (*cli).outboxList},
		command{Name: "outbox requeue", Usage: "--id ID [--profile DIR] [--secret-stdin | --secret-file FILE]",
			Help: "put a sale set aside back in the queue, under its key: the hub issues it at most once",
			Run:  (*cli).outboxRequeue},
		command{Name: "outbox dismiss", Usage: "--id ID [--profile DIR] [--secret-stdin | --secret-file FILE]",
			Help: "drop a sale set aside once the citizen has been told (its reason is kept, its personal data deleted)",
			Run:  (*cli).outboxDismiss},
	)
}

// openOutbox opens the outbox of profile dir with the offline limits of
// the agreement last kept there (the defaults when there is none). It is
// one process's at a time: while the app runs, its screen shows the queue.
func (c *cli) openOutbox(ctx context.Context, dir string, sf *secretFlags) (*outbox.Outbox, error) {
	ob, _, err := c.openOutboxFile(dir, sf, "the queue")
	if err != nil {
		return nil, err
	}
	var agreement *kiosk.Agreement
	cache := &kiosk.Cache{Path: kiosk.CachePath(dir)}
	if a, err := cache.Agreement(ctx, func(context.Context) (*kiosk.Agreement, error) { return nil, kiosk.ErrOffline }); err == nil {
		agreement = &a
	}
	if err := ob.SetLimits(kiosk.OutboxLimits(agreement)); err != nil {
		ob.Close()
		return nil, err
	}
	return ob, nil
}

// openOutboxFile opens the outbox of profile dir with the key of the
// profile, unsealed first, and returns the profile's keys too. While the
// app holds the outbox, the error says to close it: its screen shows what
// the command would.
func (c *cli) openOutboxFile(dir string, sf *secretFlags, shows string) (*outbox.Outbox, keystore.Keys, error) {
	_, keys, err := c.openProfile(dir, sf)
	if err != nil {
		return nil, keys, err
	}
	ob, err := outbox.Open(outboxPath(dir), outbox.Options{Key: keys.Outbox})
	if err != nil {
		return nil, keys, fmt.Errorf("%w (is the kiosk app running? its screen shows %s; close it to use this command)", err, shows)
	}
	return ob, keys, nil
}

func (c *cli) outboxList(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("outbox list")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile `DIR`")
	sf := addSecretFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	ob, err := c.openOutbox(ctx, *profile, sf)
	if err != nil {
		return err
	}
	defer ob.Close()
	st, err := ob.Stats()
	if err != nil {
		return err
	}
	pending, err := ob.Pending()
	if err != nil {
		return err
	}
	aside, err := ob.Refused()
	if err != nil {
		return err
	}
	l := st.Limits
	fmt.Fprintf(c.stdout, "offline limits: %s a sale, %s in all, %d sales, %s\n",
		fees.Euro(l.MaxOperationCents), fees.Euro(l.MaxAmountCents), l.MaxCount, l.MaxAge)
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	if len(pending) == 0 {
		fmt.Fprintln(w, "no sales waiting for the hub")
	} else {
		fmt.Fprintf(w, "%d sales waiting for the hub, %s, the oldest for %s:\n", st.Pending, fees.Euro(st.AmountCents), st.OldestAge.Round(time.Minute))
		fmt.Fprintln(w, "ID\tCLAIM\tQUEUED\tAMOUNT\tATTEMPTS\tLAST ERROR")
		for _, e := range pending {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\n", e.ID, e.ClaimCode, e.EnqueuedAt.Local().Format(time.DateTime), fees.Euro(e.AmountCents), e.Attempts, e.LastError)
		}
	}
	if len(aside) == 0 {
		fmt.Fprintln(w, "no sales set aside")
	} else {
		fmt.Fprintf(w, "%d sales set aside (kiosk outbox requeue --id ID sends one again; kiosk outbox dismiss --id ID drops it):\n", len(aside))
		fmt.Fprintln(w, "ID\tCLAIM\tQUEUED\tAMOUNT\tWHY\tREASON\tMESSAGE")
		for _, e := range aside {
			why, reason, msg := "refused by the hub", "", ""
			if r := e.Refusal; r != nil {
				reason, msg = r.Reason, r.Message
				if r.SetAside {
					why = "the hub failed on it"
				}
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.ClaimCode, e.EnqueuedAt.Local().Format(time.DateTime), fees.Euro(e.AmountCents), why, reason, msg)
		}
	}
	return w.Flush()
}

func (c *cli) outboxRequeue(ctx context.Context, args []string) error {
	return c.outboxChange(ctx, "outbox requeue", args, func(ob *outbox.Outbox, id uint64) (string, error) {
		return "back in the queue: the kiosk sends it when the hub answers", ob.Requeue(id)
	})
}

func (c *cli) outboxDismiss(ctx context.Context, args []string) error {
	return c.outboxChange(ctx, "outbox dismiss", args, func(ob *outbox.Outbox, id uint64) (string, error) {
		return "dismissed", ob.Dismiss(id)
	})
}

func (c *cli) outboxChange(ctx context.Context, name string, args []string, do func(*outbox.Outbox, uint64) (string, error)) error {
	fs := cmdline.FlagSet(name)
	idFlag := fs.String("id", "", "the sale's `ID` from kiosk outbox list")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile `DIR`")
	sf := addSecretFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	id, err := strconv.ParseUint(*idFlag, 10, 64)
	if err != nil || id == 0 {
		return cmdline.Usagef("--id %q is not a sale's id from kiosk outbox list", *idFlag)
	}
	ob, err := c.openOutbox(ctx, *profile, sf)
	if err != nil {
		return err
	}
	defer ob.Close()
	what, err := do(ob, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "sale %d %s\n", id, what)
	return nil
}
