package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/fees"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(
		command{Name: "city show", Usage: "--data DIR", Help: "show the city's settings: fee cap, bollo and diritti, officer and seal, register codes, offline limits, retention periods, request limits, holidays, issuing office, public URL", Run: (*cli).cityShow},
		command{Name: "city set", Usage: "--data DIR [--fee-cap CENTS] [--offline-sale-cap CENTS] [--offline-total-cap CENTS] [--offline-count N] [--offline-hours H] [--retention-months N] [--retention-pdf-days N] [--office NAME] [--address TEXT] [--patron-saint \"MM-DD [NAME]\"] [--public-url URL] [--comune BELFIORE] [--birth-marriage-exempt on|off] [--bollo-authorisation \"n. NUMBER del DD/MM/YYYY\"] [--diritti-counter|--diritti-self-service|--diritti-office IN-BOLLO/EXEMPT] [--officer NAME] [--delegation TEXT] [--seal-rule TEXT] [--ipa-code CODE] [--aoo-code CODE] [--register-code CODE] [--limit-NAME N ...] [--by NAME]",
			Help: "change the city's settings; a running hub applies them from the next request; the --limit-… flags set the rate limits, daily caps and anomaly thresholds (see --help)", Run: (*cli).citySet},
	)
}

// cityStore is the serving hub's settings store, or one on h with the
// defaults of the environment (SPORTELLO_CITY, SPORTELLO_PUBLIC_URL).
func (c *cli) cityStore(h *hubFile) (*city.Settings, error) {
	if h.city != nil {
		return h.city, nil
	}
	return store.CityOf(h.stores, c.now, envCityDefaults()), nil
}

// envCityDefaults are the city's defaults a staff command gets from the
// environment: SPORTELLO_CITY and SPORTELLO_PUBLIC_URL.
func envCityDefaults() city.Config {
	return hubcore.CityDefaults(envOr("SPORTELLO_CITY", "F205"), envOr("SPORTELLO_PUBLIC_URL", ""))
}

// newOperators is the operators' service on the hub's store
// (hubcore.NewOperators), with the serving hub's defaults or else the
// environment's.
func (c *cli) newOperators(h *hubFile) (*operators.Service, error) {
	defaults := envCityDefaults()
	if h.city != nil {
		defaults = h.city.Defaults
	}
	return hubcore.NewOperators(h.stores, defaults, c.now), nil
}

func (c *cli) cityShow(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub city show")
	data := c.dataFlag(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		cs, err := c.cityStore(h)
		if err != nil {
			return err
		}
		stored, err := cs.Stored()
		if err != nil {
			return err
		}
		cur := stored.Effective(cs.Defaults)
		src := func(set bool) string {
			if set {
				return ""
			}
			return "\t(default)"
		}
		publicURL := cur.PublicURL
		if publicURL == "" {
			publicURL = "the listening address"
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "comune\t%s%s\n", cur.Belfiore, src(stored.Belfiore != ""))
		fmt.Fprintf(tw, "office\t%s%s\n", cur.Office, src(stored.Office != ""))
		fmt.Fprintf(tw, "address\t%s%s\n", orDash(cur.Address), src(stored.Address != ""))
		fmt.Fprintf(tw, "public URL\t%s%s\n", publicURL, src(stored.PublicURL != ""))
		fmt.Fprintf(tw, "fee cap\t%d cents (%s)%s\n", cur.FeeCapCents, fees.Euro(int64(cur.FeeCapCents)), src(stored.FeeCapCents != 0))
		fmt.Fprintf(tw, "offline cap per sale\t%d cents (%s)%s\n", cur.Offline.OperationCents, fees.Euro(cur.Offline.OperationCents), src(stored.Offline.OperationCents != 0))
		fmt.Fprintf(tw, "offline total cap\t%d cents (%s)%s\n", cur.Offline.TotalCents, fees.Euro(cur.Offline.TotalCents), src(stored.Offline.TotalCents != 0))
		fmt.Fprintf(tw, "offline sales\t%d%s\n", cur.Offline.Count, src(stored.Offline.Count != 0))
		fmt.Fprintf(tw, "offline age limit\t%d hours%s\n", cur.Offline.AgeHours, src(stored.Offline.AgeHours != 0))
		fmt.Fprintf(tw, "records kept\t%d months%s\n", cur.Retention.RecordsMonths, src(stored.Retention.RecordsMonths != 0))
		fmt.Fprintf(tw, "PDF re-download window\t%d days%s\n", cur.Retention.PDFDays, src(stored.Retention.PDFDays != 0))
		fmt.Fprintf(tw, "patron saint\t%s%s\n", city.FormatMonthDay(cur.PatronSaint), src(stored.PatronSaint.Month != 0))
		fmt.Fprintf(tw, "bollo authorisation\t%s%s\n", orDash(cur.BolloAuthorisation), src(stored.BolloAuthorisation != ""))
		fmt.Fprintf(tw, "birth, marriage and civil union exemption\t%s%s\n", city.OnOff(cur.LawExempt()), src(stored.BirthMarriageExempt != nil))
		for _, ch := range city.Channels {
			_, set := stored.Diritti[ch]
			fmt.Fprintf(tw, "diritti %s (in bollo/exempt)\t%s%s\n", ch, city.FormatRates(cur.CertificatePolicy().DirittiOn(ch)), src(set))
		}
		for _, f := range []struct{ name, cur, stored string }{
			{"officer", cur.OfficerName, stored.OfficerName}, {"delegation", cur.Delegation, stored.Delegation}, {"seal rule", cur.SealRule, stored.SealRule},
			{"IPA code", cur.IPACode, stored.IPACode}, {"AOO code", cur.AOOCode, stored.AOOCode}, {"register code", cur.RegisterCode, stored.RegisterCode},
		} {
			fmt.Fprintf(tw, "%s\t%s%s\n", f.name, orDash(f.cur), src(f.stored != ""))
		}
		for _, f := range limits.Fields() {
			fmt.Fprintf(tw, "limit %s\t%d%s\n", f.Name, cur.Limits.Get(f.Name), src(stored.Limits.Get(f.Name) != 0))
		}
		for _, ch := range stored.History {
			fmt.Fprintf(tw, "changed\t%s by %s: %s\n", ch.At.In(operators.Rome).Format("2006-01-02 15:04"), ch.By, ch.What)
		}
		return tw.Flush()
	})
}

func (c *cli) citySet(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub city set")
	data := c.dataFlag(fs)
	var e city.Edit
	feeCap := fs.Int("fee-cap", -1, "cap on an operator's service fee per certificate, in cents")
	// What a kiosk may take while it cannot reach the hub; each kiosk gets
	// them with its agreement when it next reaches the hub.
	saleCap := fs.Int64("offline-sale-cap", 0, "the most one sale taken offline may collect, in cents")
	totalCap := fs.Int64("offline-total-cap", 0, "the most all the sales a kiosk holds offline may collect together, in cents")
	offCount := fs.Int("offline-count", 0, "how many sales a kiosk may hold offline")
	offHours := fs.Int("offline-hours", 0, "how many hours the oldest sale held offline may wait before a kiosk takes no more")
	keepMonths := fs.Int("retention-months", 0, "how many months issuance records and their audit entries are kept (at least 36, the law's model)")
	keepPDFDays := fs.Int("retention-pdf-days", 0, "how many days an issued PDF is kept for re-download")
	office := fs.String("office", "", "the issuing office's name, as printed on certificates")
	address := fs.String("address", "", "the issuing office's address, as printed on certificates")
	patron := fs.String("patron-saint", "", `the patron saint's day, a local holiday: "MM-DD" or "MM-DD Name"`)
	publicURL := fs.String("public-url", "", "the hub's public URL, printed in every certificate's QR")
	comune := fs.String("comune", "", "Belfiore code of the certifying comune, e.g. F205")
	lawExempt := fs.String("birth-marriage-exempt", "", "on: issue birth, marriage and civil union certificates exempt from bollo and diritti (art. 7 c. 5 L. 405/1990); off (the default): in bollo, as ANPR does")
	bolloAuth := fs.String("bollo-authorisation", "", `the Agenzia delle Entrate's authorisation to pay the bollo virtually, "n. NUMBER del DD/MM/YYYY", printed on every certificate in bollo`)
	// The diritti di segreteria per channel, "IN-BOLLO/EXEMPT" in euro.
	dirittiFlags := map[certificate.Channel]*string{}
	for _, ch := range city.Channels {
		help := fmt.Sprintf(`the diritti di segreteria on the %s channel, "IN-BOLLO/EXEMPT" in euro, e.g. "0,52/0,26" (the national amounts, L. 604/1962 tabella D)`, dirittiFlag(ch))
		if ch == certificate.SelfService {
			help += `; "0" charges none`
		}
		dirittiFlags[ch] = fs.String("diritti-"+dirittiFlag(ch), "", help)
	}
	texts := []struct {
		flag string
		to   **string
		help string
	}{
		{"officer", &e.OfficerName, `the registry officer who certifies by the mayor's delegation, printed on every certificate, e.g. "Maria Rossi"`},
		{"delegation", &e.Delegation, `the act delegating the officer, as printed, e.g. "decreto sindacale n. 12 del 03/02/2025"`},
		{"seal-rule", &e.SealRule, "the rule under which the comune's electronic seal replaces the signature, as printed"},
		{"ipa-code", &e.IPACode, `the comune's code in the Indice PA, e.g. "c_f205"; part of every certificate's register number`},
		{"aoo-code", &e.AOOCode, "the code of the area organizzativa omogenea in the Indice PA that keeps the certificates' register"},
		{"register-code", &e.RegisterCode, `the identifier of the certificates' own register (art. 53 c. 5 DPR 445/2000), e.g. "CERT"`},
	}
	textFlags := make([]*string, len(texts))
	for i, f := range texts {
		textFlags[i] = fs.String(f.flag, "", f.help+"; an empty value clears it")
	}
	by := fs.String("by", "", "a name to note beside the account running the command, which is always recorded")
	// The limits of package limits, one flag each, named after the setting.
	limitFlags := map[string]*int{}
	for _, f := range limits.Fields() {
		limitFlags[f.Name] = fs.Int("limit-"+f.Name, 0, fmt.Sprintf("%s; %d to %d, default %d", f.Help, f.Min, f.Max, f.Default))
	}
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["fee-cap"] {
		e.FeeCapCents = feeCap
	}
	if given["offline-sale-cap"] {
		e.OfflineOperationCents = saleCap
	}
	if given["offline-total-cap"] {
		e.OfflineTotalCents = totalCap
	}
	if given["offline-count"] {
		e.OfflineCount = offCount
	}
	if given["offline-hours"] {
		e.OfflineAgeHours = offHours
	}
	if given["retention-months"] {
		e.RetentionRecordsMonths = keepMonths
	}
	if given["retention-pdf-days"] {
		e.RetentionPDFDays = keepPDFDays
	}
	if given["office"] {
		e.Office = office
	}
	if given["address"] {
		e.Address = address
	}
	if given["public-url"] {
		e.PublicURL = publicURL
	}
	if given["comune"] {
		e.Belfiore = comune
	}
	for name, v := range limitFlags {
		if given["limit-"+name] {
			if e.Limits == nil {
				e.Limits = map[string]int{}
			}
			e.Limits[name] = *v
		}
	}
	if given["bollo-authorisation"] {
		e.BolloAuthorisation = bolloAuth
	}
	for i, f := range texts {
		if given[f.flag] {
			*f.to = textFlags[i]
		}
	}
	for _, ch := range city.Channels {
		name := "diritti-" + dirittiFlag(ch)
		if !given[name] {
			continue
		}
		r, err := city.ParseRates(*dirittiFlags[ch])
		if err != nil {
			return usagef("--%s: %s", name, strings.TrimPrefix(err.Error(), city.ErrInvalid.Error()+": "))
		}
		if e.Diritti == nil {
			e.Diritti = map[certificate.Channel]fees.Rates{}
		}
		e.Diritti[ch] = r
	}
	if given["birth-marriage-exempt"] {
		var on bool
		switch strings.ToLower(strings.TrimSpace(*lawExempt)) {
		case "on":
			on = true
		case "off":
		default:
			return usagef("--birth-marriage-exempt takes on or off, not %q", *lawExempt)
		}
		e.BirthMarriageExempt = &on
	}
	if given["patron-saint"] {
		md, err := city.ParseMonthDay(*patron)
		if err != nil {
			return usagef("--patron-saint: %s", strings.TrimPrefix(err.Error(), city.ErrInvalid.Error()+": "))
		}
		e.PatronSaint = &md
	}
	if e.Empty() {
		return usagef("give at least one setting to change, e.g. --fee-cap 150")
	}
	who, err := c.changer(*by)
	if err != nil {
		return err
	}
	return c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
		cs, err := c.cityStore(h)
		if err != nil {
			return err
		}
		if e.Belfiore != nil {
			table, err := c.placesOf(ctx, h)
			if err != nil {
				return err
			}
			// A code the places tables do not know would stop the desk.
			if _, err := (city.Config{Belfiore: *e.Belfiore}).Issuer(table); err != nil {
				return err
			}
		}
		before, err := cs.Stored()
		if err != nil {
			return err
		}
		if _, err := cs.Set(e, who); err != nil {
			return err
		}
		after, err := cs.Stored()
		if err != nil {
			return err
		}
		for _, ch := range after.History[len(before.History):] {
			fmt.Fprintf(c.stdout, "%s\n", ch.What)
		}
		return nil
	})
}

// dirittiFlag is the channel as its --diritti-… flag names it.
func dirittiFlag(ch certificate.Channel) string { return strings.ReplaceAll(string(ch), "_", "-") }

// placesOf is the places table: the serving desk's, else the file's.
func (c *cli) placesOf(ctx context.Context, h *hubFile) (*places.Table, error) {
	if c.desk != nil {
		return c.desk.Places(), nil
	}
	var t *places.Table
	err := h.View(ctx, func(r registry.Reader) (err error) { t, err = placeTable(r); return })
	return t, err
}
