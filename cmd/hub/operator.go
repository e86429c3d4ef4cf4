package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sportello/sportello/internal/fees"
	hubcore "github.com/sportello/sportello/internal/hub"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

func init() {
	register(
		command{Name: "operator add", Usage: "--data DIR --name LEGAL_NAME --piva PIVA --category CAT --street S --number N --cap CAP --city CITY --lat LAT --lon LON [--hours SPEC] [--metro LINES] [--rail LINES] [--stop NAME] [--signed DATE --expires DATE --fee-cents N --types LIST] [--by NAME]",
			Help: "record an operator's application (status applied)", Run: (*cli).operatorAdd},
		command{Name: "operator list", Usage: "--data DIR [--status STATUS]", Help: "list operators: id, status, category, name", Run: (*cli).operatorList},
		command{Name: "operator show", Usage: "--data DIR ID [--json]", Help: "show an operator, its history and devices", Run: (*cli).operatorShow},
		command{Name: "operator approve", Usage: "--data DIR ID [--by NAME] [--reason TEXT]", Help: "approve an application", Run: lifecycle(operators.Approved)},
		command{Name: "operator activate", Usage: "--data DIR ID [--by NAME] [--reason TEXT]", Help: "let an approved or suspended operator issue", Run: lifecycle(operators.Active)},
		command{Name: "operator suspend", Usage: "--data DIR ID [--by NAME] --reason TEXT", Help: "stop an operator's devices from the next request", Run: lifecycle(operators.Suspended)},
		command{Name: "operator revoke", Usage: "--data DIR ID [--by NAME] --reason TEXT", Help: "end an operator's participation for good", Run: lifecycle(operators.Revoked)},
		command{Name: "operator widening", Usage: "--data DIR ID (--basis TEXT | --clear)",
			Help: "let a shop's counter issue beyond the requester's own household, naming the legal basis; --clear restores self and household only", Run: (*cli).operatorWidening},
		command{Name: "operator enrol-code", Usage: "--data DIR ID [--by NAME] [--ttl DURATION]", Help: "issue a one-time code to enrol one of the operator's devices", Run: (*cli).operatorEnrolCode},
		command{Name: "device revoke", Usage: "--data DIR KEY_ID [--by NAME] --reason TEXT", Help: "switch a device off from the next request", Run: (*cli).deviceRevoke},
	)
}

func (c *cli) withOperators(ctx context.Context, data string, write bool, fn func(*operators.Service) error) error {
	mode := readExisting
	if write {
		mode = writeCreate
	}
	return c.withHub(ctx, data, mode, func(h *hubFile) error {
		ops, err := c.newOperators(h)
		if err != nil {
			return err
		}
		return fn(ops)
	})
}

// listFlag collects a comma-separated or repeated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// operatorWidening sets or clears an agreement's widening: off by default,
// and when on it must say on what legal basis, since outside the registry
// office the law lets certificates go only to the person and their own
// household (DM Interno 3 November 2021 art. 2).
func (c *cli) operatorWidening(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub operator widening")
	data := c.dataFlag(fs)
	basis := fs.String("basis", "", `the legal basis, written out, e.g. "art. 33 DPR 223/1989 — certificati a chiunque ne faccia richiesta, convenzione n. 12/2026"`)
	clear := fs.Bool("clear", false, "remove the widening: self and household only")
	id, err := oneArg(fs, args, "an operator id")
	if err != nil {
		return err
	}
	switch {
	case *clear && *basis != "":
		return usagef("give either --basis or --clear, not both")
	case !*clear && strings.TrimSpace(*basis) == "":
		return usagef("--basis TEXT (the legal basis) or --clear is required")
	}
	return c.withOperators(ctx, *data, true, func(ops *operators.Service) error {
		o, err := ops.SetWidening(id, *basis)
		if err != nil {
			return err
		}
		if o.Agreement.Widening == "" {
			fmt.Fprintf(c.stdout, "%s: self and household only\n", o.ID)
		} else {
			fmt.Fprintf(c.stdout, "%s: widened on the basis of: %s\n", o.ID, o.Agreement.Widening)
		}
		return nil
	})
}

func (c *cli) operatorAdd(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub operator add")
	data := c.dataFlag(fs)
	name := fs.String("name", "", "legal name")
	sign := fs.String("sign", "", "name over the door, when not the legal name")
	piva := fs.String("piva", "", "partita IVA (11 digits)")
	category := fs.String("category", "", "edicola, tabaccheria, cartoleria, access_point, self_service_kiosk or registry_office")
	street := fs.String("street", "", "street")
	number := fs.String("number", "", "civic number")
	cap := fs.String("cap", "", "postcode")
	city := fs.String("city", "Milano", "city")
	lat := fs.Float64("lat", 0, "latitude (WGS 84)")
	lon := fs.Float64("lon", 0, "longitude (WGS 84)")
	hours := fs.String("hours", "", `opening hours, e.g. "mon-fri 07:00-12:30 15:00-19:00; sat 07:30-13:00"`)
	holidays := fs.Bool("open-on-holidays", false, "keep the regular hours on public holidays")
	var metro, rail, types listFlag
	fs.Var(&metro, "metro", "nearest metro lines, e.g. M1,M3")
	fs.Var(&rail, "rail", "nearest rail lines, e.g. S5,S6")
	stop := fs.String("stop", "", "nearest station")
	signed := fs.String("signed", "", "agreement signing date YYYY-MM-DD")
	expires := fs.String("expires", "", "agreement expiry date YYYY-MM-DD")
	fee := fs.Int("fee-cents", 0, "service fee per certificate in cents, within the city's cap")
	fs.Var(&types, "types", "certificate types the agreement allows, e.g. residenza,stato_di_famiglia")
	by := fs.String("by", "", "a name to note beside the account running the command, which is always recorded")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	who, err := c.changer(*by)
	if err != nil {
		return err
	}
	*by = who
	cat, err := operators.ParseCategory(*category)
	if err != nil {
		return usagef("%s", cmdline.Sentence(strings.TrimPrefix(err.Error(), operators.ErrInvalid.Error()+": ")))
	}
	o := &operators.Operator{
		LegalName: *name, Name: *sign, PartitaIVA: *piva, Category: cat,
		Address: operators.Address{Street: *street, Number: *number, CAP: *cap, City: *city, Lat: *lat, Lon: *lon},
		Transit: operators.Transit{Metro: metro, Rail: rail, Stop: *stop},
	}
	if *hours != "" {
		if o.Hours.Week, err = operators.ParseWeek(*hours); err != nil {
			return usagef("--hours: %v", err)
		}
	}
	o.Hours.OpenOnHolidays = *holidays
	if *signed != "" || *expires != "" || len(types) > 0 || *fee != 0 {
		a := &operators.Agreement{FeeCents: *fee}
		if a.Signed, err = registry.ParseDate(*signed); err != nil {
			return usagef("--signed: %v", err)
		}
		if a.Expires, err = registry.ParseDate(*expires); err != nil {
			return usagef("--expires: %v", err)
		}
		for _, s := range types {
			t, err := certificate.ParseType(s)
			if err != nil {
				return usagef("--types: %v", err)
			}
			a.Types = append(a.Types, t)
		}
		o.Agreement = a
	}
	return c.withOperators(ctx, *data, true, func(ops *operators.Service) error {
		if err := ops.Add(o, *by); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s %s %s\n", o.ID, o.Status, o.DisplayName())
		return nil
	})
}

func (c *cli) operatorList(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub operator list")
	data := c.dataFlag(fs)
	status := fs.String("status", "", "only operators in this status")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	var want operators.Status
	if *status != "" {
		var err error
		if want, err = operators.ParseStatus(*status); err != nil {
			return usagef("--status: %v", err)
		}
	}
	return c.withOperators(ctx, *data, false, func(ops *operators.Service) error {
		all, err := ops.List()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		for _, o := range all {
			if want != "" && o.Status != want {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.ID, o.Status, o.Category, o.DisplayName(), o.Address)
		}
		return tw.Flush()
	})
}

func (c *cli) operatorShow(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub operator show")
	data := c.dataFlag(fs)
	asJSON := fs.Bool("json", false, "print the record as JSON")
	id, err := oneArg(fs, args, "an operator id")
	if err != nil {
		return err
	}
	return c.withOperators(ctx, *data, false, func(ops *operators.Service) error {
		o, err := ops.Get(id)
		if err != nil {
			return err
		}
		devs, err := ops.Devices(id)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				*operators.Operator
				Devices []*operators.Device `json:"devices"`
			}{o, devs})
		}
		w := c.stdout
		fmt.Fprintf(w, "%s  %s (%s)\n", o.ID, o.DisplayName(), o.Category.Label())
		fmt.Fprintf(w, "legal name       %s\npartita IVA      %s\nstatus           %s\naddress          %s (%.5f, %.5f)\n",
			o.LegalName, o.PartitaIVA, o.Status, o.Address, o.Address.Lat, o.Address.Lon)
		if t := o.Transit; len(t.Metro)+len(t.Rail) > 0 || t.Stop != "" {
			fmt.Fprintf(w, "transit          %s %s %s\n", strings.Join(t.Metro, " "), strings.Join(t.Rail, " "), t.Stop)
		}
		for d := time.Monday; d <= time.Saturday+1; d++ {
			wd := d % 7
			var spans []string
			for _, iv := range o.Hours.Week.On(wd) {
				spans = append(spans, iv.String())
			}
			if len(spans) == 0 {
				spans = []string{"closed"}
			}
			fmt.Fprintf(w, "%-17s%s\n", strings.ToLower(wd.String()[:3]), strings.Join(spans, " "))
		}
		if a := o.Agreement; a != nil {
			var types []string
			for _, t := range a.Types {
				types = append(types, string(t))
			}
			fmt.Fprintf(w, "agreement        %s to %s, fee %s, %s\n", a.Signed, a.Expires, fees.Euro(int64(a.FeeCents)), strings.Join(types, ", "))
			widening := "none: the requester and their own famiglia anagrafica only (DM Interno 3.11.2021 art. 2)"
			if a.Widening != "" {
				widening = a.Widening
			}
			fmt.Fprintf(w, "widening         %s\n", widening)
		}
		for _, h := range o.History {
			fmt.Fprintf(w, "history          %s  %s → %s by %s", h.At.In(operators.Rome).Format("2006-01-02 15:04"), orDash(string(h.From)), h.To, h.By)
			if h.Reason != "" {
				fmt.Fprintf(w, ": %s", h.Reason)
			}
			fmt.Fprintln(w)
		}
		for _, d := range devs {
			last := "never"
			if !d.LastContact.IsZero() {
				last = d.LastContact.In(operators.Rome).Format("2006-01-02 15:04")
			}
			fmt.Fprintf(w, "device           %s  %s  %s, enrolled %s, last contact %s\n", d.KeyID, d.Status, d.Name,
				d.EnrolledAt.In(operators.Rome).Format("2006-01-02 15:04"), last)
		}
		return nil
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usagef("give exactly one argument: %s", what)
	}
	return pos[0], nil
}

func lifecycle(to operators.Status) func(*cli, context.Context, []string) error {
	return func(c *cli, ctx context.Context, args []string) error {
		verb := map[operators.Status]string{operators.Approved: "approve", operators.Active: "activate", operators.Suspended: "suspend", operators.Revoked: "revoke"}[to]
		fs := cmdline.FlagSet("hub operator " + verb)
		data := c.dataFlag(fs)
		by := fs.String("by", "", "a name to note beside the account running the command, which is always recorded")
		reason := fs.String("reason", "", "why (required to suspend or revoke)")
		id, err := oneArg(fs, args, "an operator id")
		if err != nil {
			return err
		}
		who, err := c.changer(*by)
		if err != nil {
			return err
		}
		*by = who
		if (to == operators.Suspended || to == operators.Revoked) && strings.TrimSpace(*reason) == "" {
			return usagef("say why with --reason TEXT: the shop will ask")
		}
		return c.withOperators(ctx, *data, true, func(ops *operators.Service) error {
			o, err := ops.SetStatus(id, to, *by, *reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s %s\n", o.ID, o.Status)
			return nil
		})
	}
}

func (c *cli) operatorEnrolCode(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub operator enrol-code")
	data := c.dataFlag(fs)
	by := fs.String("by", "", "a name to note beside the account running the command, which is always recorded")
	ttl := fs.Duration("ttl", operators.DefaultCodeTTL, "how long the code stays usable")
	id, err := oneArg(fs, args, "an operator id")
	if err != nil {
		return err
	}
	who, err := c.changer(*by)
	if err != nil {
		return err
	}
	*by = who
	if *ttl <= 0 {
		return usagef("--ttl must be positive")
	}
	return c.withOperators(ctx, *data, true, func(ops *operators.Service) error {
		code, rec, err := ops.IssueCode(id, *by, *ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "enrolment code: %s\nfor operator %s, usable once until %s\n", code, id, rec.Expires.In(operators.Rome).Format("2006-01-02 15:04 MST"))
		return nil
	})
}

func (c *cli) deviceRevoke(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub device revoke")
	data := c.dataFlag(fs)
	by := fs.String("by", "", "a name to note beside the account running the command, which is always recorded")
	reason := fs.String("reason", "", "why")
	keyID, err := oneArg(fs, args, "a device key id")
	if err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return usagef("say why the device is revoked with --reason TEXT")
	}
	who, err := c.changer(*by)
	if err != nil {
		return err
	}
	*by = who
	return c.withOperators(ctx, *data, true, func(ops *operators.Service) error {
		d, err := ops.RevokeDevice(keyID, *by, *reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s %s\n", d.KeyID, d.Status)
		return nil
	})
}

// demoShopID is the first demo operator: the shop whose kiosk enrols.
const demoShopID = hubcore.DemoShopID
