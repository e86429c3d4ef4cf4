package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/issuance"
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

// startNotifier wires the queue into desk and starts the sender; it
// returns a function that stops the sender and waits for it. With no
// channel configured it says so and queues nothing.
func (c *cli) startNotifier(h *hubFile, desk *issuance.Service, f *notifyFlags, log *slog.Logger) (func(), error) {
	ns := f.notifiers(c.now)
	if len(ns) == 0 {
		log.Info("citizen notifications are off: give --appio-url with --appio-key-file, or --smtp-addr with --smtp-from, to notify subjects of certificates issued at a household member's request")
		return func() {}, nil
	}
	// The queue is the hub's store's: on a database several hubs share,
	// each delivery is claimed by one sender (notify.Store.Claim).
	q := store.NoticesOf(h.stores)
	// issuance.QueueNotices queues in the issuing transaction; the
	// hub's store wakes the sender once it commits (store.Waker).
	desk.Notices = issuance.QueueNotices{Now: c.now}
	var channels []string
	for _, n := range ns {
		channels = append(channels, n.Channel())
	}
	h.notifyChannels, h.notices = channels, &q
	log.Info("citizen notifications on", "channels", strings.Join(channels, ","))
	s := &notify.Sender{Queue: q, Notifiers: ns, Now: c.now, Log: log, Base: f.retry}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wake <-chan struct{} // nil: the sender polls at its next due time only
		st := h.stores
		if a, ok := st.(*store.Anchoring); ok {
			st = a.Store // the anchoring wrapper does not say when notices commit
		}
		if w, ok := st.(store.Waker); ok {
			wake = w.NoticeWake()
		}
		s.Run(ctx, wake, func() (time.Time, bool) {
			at, ok, err := q.Next(channels)
			return at, ok && err == nil
		})
	}()
	// Scheduled reminders (issue 17) go out through the same queue: the
	// scan runs only while there is a channel to send them on, so a
	// reminder of an appointment tomorrow is not queued to go out weeks
	// late.
	stopScan := func() {}
	if f.reminders {
		stopScan = c.startReminderScan(h, desk.PublicURL, log)
	}
	return func() { stopScan(); cancel(); <-done }, nil
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
