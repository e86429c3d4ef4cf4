package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

// Named clerks (issue 13): city staff enable each person who works a
// shop's counter, by codice fiscale, after training and until a date; the
// clerk logs in at the kiosk with their own CIE and PIN, or with a password
// and a TOTP code where the shop has no reader. Every change is kept in the
// clerk's history with the account that made it.
func init() {
	register(
		command{Name: "clerk add", Usage: "--data DIR --operator ID --cf CF --name NAME --trained YYYY-MM-DD --until YYYY-MM-DD [--nis NIS] [--password-file FILE] [--by NAME]",
			Help: "enable a named clerk at one operator's counter (prints a TOTP secret with --password-file)", Run: (*cli).clerkAdd},
		command{Name: "clerk list", Usage: "--data DIR [--operator ID]", Help: "list clerks: id, status, operator, codice fiscale, name, trained, enabled until, log-in", Run: (*cli).clerkList},
		command{Name: "clerk suspend", Usage: "--data DIR ID --reason TEXT [--by NAME]", Help: "stop a clerk's log-in and open sessions from the next request", Run: clerkLifecycle(operators.ClerkSuspended)},
		command{Name: "clerk reinstate", Usage: "--data DIR ID [--reason TEXT] [--by NAME]", Help: "let a suspended clerk log in again (old sessions stay ended)", Run: clerkLifecycle(operators.ClerkActive)},
	)
}

func (c *cli) clerkAdd(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub clerk add")
	data := c.dataFlag(fs)
	opID := fs.String("operator", "", "the operator (shop) the clerk works for")
	cf := fs.String("cf", "", "the clerk's codice fiscale")
	name := fs.String("name", "", "the clerk's name as on their identity document")
	trained := fs.String("trained", "", "the day the clerk completed the city's training, YYYY-MM-DD")
	until := fs.String("until", "", "the last day the clerk may log in, YYYY-MM-DD")
	nis := fs.String("nis", "", "the NIS of the clerk's CIE, for a clerk who is not a resident of the city")
	pwFile := fs.String("password-file", "", "`FILE` whose first line is the clerk's password, for a shop without a card reader; a TOTP secret is made and printed once")
	by := fs.String("by", "", "a name to note beside the account running the command, which is always recorded")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	who, err := c.changer(*by)
	if err != nil {
		return err
	}
	if *opID == "" || *cf == "" || *name == "" {
		return usagef("give --operator, --cf and --name")
	}
	k := &operators.Clerk{OperatorID: *opID, CF: *cf, Name: *name, NIS: *nis}
	if k.Trained, err = registry.ParseDate(*trained); err != nil {
		return usagef("--trained: %v", err)
	}
	if k.EnabledUntil, err = registry.ParseDate(*until); err != nil {
		return usagef("--until: %v", err)
	}
	if *pwFile != "" {
		b, err := os.ReadFile(c.path(*pwFile))
		if err != nil {
			return fmt.Errorf("cannot read the password: %w", err)
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		if k.PasswordHash, err = operators.HashClerkPassword(strings.TrimRight(pw, "\r"), nil); err != nil {
			return usagef("%s", cmdline.Sentence(strings.TrimPrefix(err.Error(), operators.ErrInvalid.Error()+": ")))
		}
		if k.TOTPSecret, err = operators.NewTOTPSecret(nil); err != nil {
			return err
		}
	}
	return c.withOperators(ctx, *data, true, func(ops *operators.Service) error {
		if err := ops.AddClerk(k, who); err != nil {
			if errors.Is(err, operators.ErrInvalid) {
				// The sentence without the store's generic prefix.
				return errors.New(strings.TrimPrefix(err.Error(), operators.ErrInvalid.Error()+": "))
			}
			return err
		}
		fmt.Fprintf(c.stdout, "%s %s %s (%s) at %s until %s\n", k.ID, k.Status, k.Name, k.CF, k.OperatorID, k.EnabledUntil)
		if k.TOTPSecret != "" {
			fmt.Fprintf(c.stdout, "TOTP secret (shown once; the clerk adds it to an authenticator app): %s\n%s\n", k.TOTPSecret, operators.TOTPURI(k.TOTPSecret, k.CF))
		}
		return nil
	})
}

func (c *cli) clerkList(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub clerk list")
	data := c.dataFlag(fs)
	opID := fs.String("operator", "", "only this operator's clerks")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	return c.withOperators(ctx, *data, false, func(ops *operators.Service) error {
		all, err := ops.Clerks(*opID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		for _, k := range all {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Status, k.OperatorID, k.CF, k.Name, k.Trained, k.EnabledUntil, clerkLogins(k))
		}
		return tw.Flush()
	})
}

// clerkLogins says how a clerk may log in.
func clerkLogins(k *operators.Clerk) string {
	if k.HasPassword() {
		return "cie,password"
	}
	return "cie"
}

func clerkLifecycle(to operators.ClerkStatus) func(*cli, context.Context, []string) error {
	return func(c *cli, ctx context.Context, args []string) error {
		verb := map[operators.ClerkStatus]string{operators.ClerkSuspended: "suspend", operators.ClerkActive: "reinstate"}[to]
		fs := cmdline.FlagSet("hub clerk " + verb)
		data := c.dataFlag(fs)
		by := fs.String("by", "", "a name to note beside the account running the command, which is always recorded")
		reason := fs.String("reason", "", "why (required to suspend)")
		id, err := oneArg(fs, args, "a clerk id")
		if err != nil {
			return err
		}
		who, err := c.changer(*by)
		if err != nil {
			return err
		}
		if to == operators.ClerkSuspended && strings.TrimSpace(*reason) == "" {
			return usagef("say why with --reason TEXT: the clerk and the shop will ask")
		}
		return c.withOperators(ctx, *data, true, func(ops *operators.Service) error {
			k, err := ops.SetClerkStatus(id, to, who, *reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s %s %s\n", k.ID, k.Status, k.Name)
			return nil
		})
	}
}

// loadCSCAs reads the --csca files the hub trusts CIEs by.
func (c *cli) loadCSCAs(files []string, demo bool) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, f := range files {
		b, err := os.ReadFile(c.path(f))
		if err != nil {
			return nil, fmt.Errorf("cannot read the CSCA file: %w", err)
		}
		certs, err := cie.ParseCSCAs(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, certs...)
	}
	if demo {
		// The demo kiosk's virtual cards are issued under the test CSCA.
		ca, err := virtual.TestCSCA()
		if err != nil {
			return nil, err
		}
		out = append(out, ca)
	}
	return out, nil
}
