package main

import (
	"context"
	"flag"
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/notify/appio"
	mailn "github.com/sportello/sportello/internal/notify/mail"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(
		command{Name: "notify list", Usage: "--data DIR", Help: "list the citizens' notifications and how each channel's delivery stands (failed ones need staff)", Run: (*cli).notifyList},
		command{Name: "person contact", Usage: "--data DIR --cf CF --email ADDRESS", Help: "record the contact e-mail a person gave the office, for notices (an empty --email removes it)", Run: (*cli).personContact},
	)
}

// notifyFlags are hub serve's notification settings.
type notifyFlags struct {
	appioURL, appioKeyFile string
	smtpAddr, smtpFrom     string
	smtpRequireTLS         bool
	retry                  time.Duration
	appioKey               string
	reminders              bool
}

func addNotifyFlags(fs *flag.FlagSet) *notifyFlags {
	f := &notifyFlags{}
	fs.StringVar(&f.appioURL, "appio-url", "", "App IO API base URL (e.g. https://api.io.pagopa.it); with --appio-key-file, citizens are notified on App IO")
	fs.StringVar(&f.appioKeyFile, "appio-key-file", "", "file holding the App IO service's API key (Ocp-Apim-Subscription-Key)")
	fs.StringVar(&f.smtpAddr, "smtp-addr", "", "SMTP server HOST:PORT; with --smtp-from, citizens with a contact e-mail are notified by e-mail (STARTTLS when offered)")
	fs.StringVar(&f.smtpFrom, "smtp-from", "", "sender address of notification e-mails, e.g. \"Comune di Milano <anagrafe@comune.milano.it>\"")
	fs.BoolVar(&f.smtpRequireTLS, "smtp-require-tls", false, "refuse to send e-mail to a server that does not offer STARTTLS")
	fs.BoolVar(&f.reminders, "reminders", true, "while notifications are on, queue the scheduled reminders (a CIE expiring within 90 days) at start and every morning")
	fs.DurationVar(&f.retry, "notify-retry", 30*time.Second, "wait before the first retry of a notification that could not be delivered; doubled at each failure, up to 6h")
	return f
}

// check validates the flags before the hub opens anything.
func (f *notifyFlags) check() error {
	if (f.appioURL == "") != (f.appioKeyFile == "") {
		return usagef("give --appio-url and --appio-key-file together")
	}
	if (f.smtpAddr == "") != (f.smtpFrom == "") {
		return usagef("give --smtp-addr and --smtp-from together")
	}
	if f.smtpFrom != "" {
		if _, err := mail.ParseAddress(f.smtpFrom); err != nil {
			return usagef("--smtp-from %q is not an e-mail address: %v", f.smtpFrom, err)
		}
	}
	if f.retry <= 0 {
		return usagef("--notify-retry must be positive")
	}
	if f.appioKeyFile != "" {
		b, err := os.ReadFile(f.appioKeyFile)
		if err != nil {
			return fmt.Errorf("cannot read the App IO key: %v", unwrapPath(err))
		}
		if f.appioKey = strings.TrimSpace(string(b)); f.appioKey == "" {
			return usagef("the App IO key file %s is empty", f.appioKeyFile)
		}
	}
	return nil
}

func (f *notifyFlags) notifiers(now func() time.Time) []notify.Notifier {
	var ns []notify.Notifier
	if f.appioURL != "" {
		ns = append(ns, &appio.Client{BaseURL: f.appioURL, Key: f.appioKey})
	}
	if f.smtpAddr != "" {
		ns = append(ns, &mailn.Client{Addr: f.smtpAddr, From: f.smtpFrom, RequireTLS: f.smtpRequireTLS, Now: now})
	}
	return ns
}

func (c *cli) notifyList(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub notify list")
	data := c.dataFlag(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		items, err := store.NoticesOf(h.stores).List()
		if err != nil {
			return err
		}
		if len(items) == 0 {
			fmt.Fprintln(c.stdout, "no notifications")
			return nil
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSUBJECT\tQUEUED\tCHANNEL\tSTATE\tATTEMPTS\tRECEIPT / LAST ERROR")
		for _, it := range items {
			chans := make([]string, 0, len(it.Deliveries))
			for ch := range it.Deliveries {
				chans = append(chans, ch)
			}
			if len(chans) == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t-\t%s\t0\t\n", it.ID, it.Message.CF, it.Enqueued.Format(time.RFC3339), notify.Pending)
				continue
			}
			slices.Sort(chans)
			for _, ch := range chans {
				d := it.Deliveries[ch]
				detail := d.Receipt
				if d.State != notify.Sent {
					detail = d.LastError
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", it.ID, it.Message.CF, it.Enqueued.Format(time.RFC3339), ch, d.State, d.Attempts, detail)
			}
		}
		return tw.Flush()
	})
}

func (c *cli) personContact(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub person contact")
	data := c.dataFlag(fs)
	cf := fs.String("cf", "", "codice fiscale of the person")
	email := fs.String("email", "", "the contact e-mail the person gave; empty removes it")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *cf == "" {
		return usagef("give --cf")
	}
	addr := strings.TrimSpace(*email)
	if addr != "" {
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Name != "" {
			return usagef("--email %q is not a plain e-mail address such as nome@example.org", addr)
		}
		addr = a.Address
	}
	return c.editPerson(ctx, *data, *cf, func(p *registry.Person) {
		p.Email = addr
	}, func(p *registry.Person) {
		if addr == "" {
			fmt.Fprintf(c.stdout, "%s %s: contact e-mail removed\n", p.CF, p.FullName())
		} else {
			fmt.Fprintf(c.stdout, "%s %s: contact e-mail %s\n", p.CF, p.FullName(), addr)
		}
	})
}
