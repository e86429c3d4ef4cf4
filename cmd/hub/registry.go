package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/cmdline"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/synth"
)

func init() {
	register(
		command{Name: "seed", Usage: "--data DIR | --db URL --persons N [--seed S]", Help: "fill an empty registry with a synthetic city", Run: (*cli).seed},
		command{Name: "person list", Usage: "--data DIR | --db URL [--limit N]", Help: "list residents: codice fiscale and name, one a line", Run: (*cli).personList},
		command{Name: "person show", Usage: "--data DIR --cf CF | --nis NIS [--purpose TEXT] [--json]", Help: "show one person's registry record (recorded in the audit log)", Run: (*cli).personShow},
		command{Name: "places import", Usage: "--data DIR FILE", Help: "load ANPR's archive of comuni or table of foreign states", Run: (*cli).placesImport},
	)
}

func (c *cli) seed(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub seed")
	data := c.dataFlag(fs)
	n := fs.Int("persons", 0, "number of residents")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same city")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *n <= 0 {
		return usagef("--persons must be a positive number of residents")
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
		st := h.Store
		var have int
		if err := st.View(ctx, func(r registry.Reader) (err error) { have, err = r.CountPersons(); return }); err != nil {
			return err
		}
		if have > 0 {
			return fmt.Errorf("the registry already holds %d persons; seed only fills an empty registry", have)
		}
		start := time.Now()
		cfg := synth.Config{Persons: *n, Seed: *seed, Today: registry.DateOf(c.now()), City: synth.DefaultCity()}
		seed := synth.Seed
		if h.file == "" {
			// PostgreSQL loads an empty registry in one transaction
			// several times faster (store/postgres freshLoad).
			seed = synth.SeedOne
		}
		stats, err := seed(ctx, st, cfg, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "seeded %d persons in %d families and %d convivenze, %d events, %d omocodes, in %.1f s\n",
			stats.Persons, stats.Families, stats.Convivenze, stats.Events, stats.Omocodes, time.Since(start).Seconds())
		return nil
	})
}

func (c *cli) personList(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub person list")
	data := c.dataFlag(fs)
	limit := fs.Int("limit", 0, "list at most N persons (0: all)")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("--limit must not be negative")
	}
	return c.withStore(ctx, *data, readExisting, func(st registry.Store) error {
		return st.View(ctx, func(r registry.Reader) error {
			n := 0
			return r.Persons(0, func(p *registry.Person) (bool, error) {
				if _, err := fmt.Fprintf(c.stdout, "%s %s\n", p.CF, p.FullName()); err != nil {
					return false, err
				}
				n++
				return *limit == 0 || n < *limit, ctx.Err()
			})
		})
	})
}

func (c *cli) personShow(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub person show")
	data := c.dataFlag(fs)
	cf := fs.String("cf", "", "codice fiscale (any omocode of it)")
	nis := fs.String("nis", "", "NIS of the person's CIE, instead of --cf")
	asJSON := fs.Bool("json", false, "print the record as JSON")
	purpose := fs.String("purpose", noPurpose, "why you read this record (task, legal basis), kept in the audit log")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if (*cf == "") == (*nis == "") {
		return usagef("give one of --cf or --nis")
	}
	actor, err := c.staffActor()
	if err != nil {
		return err
	}
	if err := c.requireRegistry(*data); err != nil {
		return err
	}
	read := audit.Entry{Actor: actor, Purpose: *purpose, Data: "scheda anagrafica con famiglia ed eventi", Channel: "cli"}
	return c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
		return c.auditedRead(h, read, func(c *cli, r registry.Reader, read *audit.Entry) error {
			var p *registry.Person
			var err error
			if *cf != "" {
				p, err = r.PersonByCF(*cf)
			} else {
				p, err = r.PersonByNIS(*nis)
			}
			if err != nil {
				return personError(err, *cf, *nis)
			}
			read.Subject = p.CF
			var members []*registry.Person
			var fam *registry.Family
			if p.Family != 0 {
				if fam, err = r.Family(p.Family); err != nil {
					return err
				}
				if members, err = r.Members(p.Family); err != nil {
					return err
				}
			}
			events, err := r.EventsOf(p.ID)
			if err != nil {
				return err
			}
			if *asJSON {
				enc := json.NewEncoder(c.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Person  *registry.Person   `json:"person"`
					Family  *registry.Family   `json:"family,omitempty"`
					Members []*registry.Person `json:"members,omitempty"`
					Events  []*registry.Event  `json:"events,omitempty"`
				}{p, fam, members, events})
			}
			pt, err := placeTable(r)
			if err != nil {
				return err
			}
			writePerson(c, pt, p, fam, members, events, r)
			return nil
		})
	})
}

func personError(err error, cf, nis string) error {
	if cf != "" {
		return fmt.Errorf("no person with codice fiscale %s: %w", strings.ToUpper(cf), err)
	}
	return fmt.Errorf("no person holds a CIE with NIS %s: %w", nis, err)
}

// placeName gives "MILANO (MI)" for a Belfiore code valid on day d.
func placeName(pt *places.Table, code string, d registry.Date) string {
	p, ok := pt.Lookup(code, d.Time())
	if !ok {
		return code
	}
	if p.Province != "" {
		return fmt.Sprintf("%s (%s)", p.Name, p.Province)
	}
	return p.Name
}

func writePerson(c *cli, pt *places.Table, p *registry.Person, fam *registry.Family, members []*registry.Person, events []*registry.Event, r registry.Reader) {
	w := c.stdout
	today := registry.DateOf(c.now())
	fmt.Fprintf(w, "%s\n", p.FullName())
	fmt.Fprintf(w, "  codice fiscale   %s\n", p.CF)
	fmt.Fprintf(w, "  sex              %s\n", p.Sex)
	fmt.Fprintf(w, "  born             %s in %s\n", p.BirthDate.Italian(), placeName(pt, p.BirthPlace, p.BirthDate))
	var cit []string
	for _, z := range p.Citizenships {
		cit = append(cit, placeName(pt, z, today))
	}
	fmt.Fprintf(w, "  citizenship      %s\n", strings.Join(cit, ", "))
	fmt.Fprintf(w, "  civil status     %s\n", p.CivilStatus.Italian(p.Sex))
	if !p.Alive() {
		fmt.Fprintf(w, "  died             %s in %s\n", p.DeathDate.Italian(), placeName(pt, p.DeathPlace, p.DeathDate))
	}
	if p.AIRE {
		fmt.Fprintf(w, "  AIRE             registered as resident abroad\n")
	}
	if p.PartlyCertifiable {
		fmt.Fprintf(w, "  certifiable      partly: only residenza, residenza in convivenza and stato di famiglia\n")
	}
	if !p.ProcedureOpen.IsZero() {
		fmt.Fprintf(w, "  procedure        open since %s: no certificate is issued\n", p.ProcedureOpen.Italian())
	}
	for i := len(p.Residences) - 1; i >= 0; i-- {
		res := p.Residences[i]
		label := "  residence        "
		if i != len(p.Residences)-1 || !res.To.IsZero() {
			label = "  previously       "
		}
		until := "today"
		if !res.To.IsZero() {
			until = res.To.Italian()
		}
		fmt.Fprintf(w, "%s%s, %s %s, from %s to %s\n", label, res.Address.Line(), res.Address.CAP,
			placeName(pt, res.Address.Comune, today), res.From.Italian(), until)
	}
	for _, d := range p.Documents {
		state := "valid"
		if !d.ValidOn(today) {
			state = "not valid today"
		}
		nis := ""
		if d.NIS != "" {
			nis = " NIS " + d.NIS
		}
		fmt.Fprintf(w, "  document         %s %s%s, issued %s, expires %s (%s)\n", d.Kind, d.Number, nis, d.Issued.Italian(), d.Expires.Italian(), state)
	}
	if fam != nil {
		kind := "famiglia anagrafica"
		if fam.Kind == registry.Convivenza {
			kind = "convivenza " + fam.Name
		}
		fmt.Fprintf(w, "  %s %d:\n", kind, fam.ID)
		for _, m := range members {
			fmt.Fprintf(w, "    %-16s %-40s %s, born %s\n", m.CF, m.FullName(), m.Relationship.Italian(m.Sex), m.BirthDate.Italian())
		}
	}
	// The family history, which the historical stato di famiglia reads
	// (registry.Person.Memberships): staff choose a date from it.
	for _, m := range p.Memberships {
		until := "today"
		if !m.To.IsZero() {
			until = m.To.Italian()
		}
		fmt.Fprintf(w, "  member           family %d as %s, from %s to %s\n", m.Family, m.Relationship.Italian(p.Sex), m.From.Italian(), until)
	}
	for _, e := range events {
		var who []string
		for _, id := range e.Persons {
			if id == p.ID {
				continue
			}
			if q, err := r.Person(id); err == nil {
				who = append(who, q.FullName())
			}
		}
		line := fmt.Sprintf("  event            %s %s", e.Date.Italian(), e.Kind)
		if e.Place != "" {
			line += " in " + placeName(pt, e.Place, e.Date)
		}
		if len(who) > 0 {
			line += " with " + strings.Join(who, ", ")
		}
		fmt.Fprintln(w, line)
	}
}

// placeTable is the embedded default table overlaid with the places this
// registry imported (r may be nil: no registry yet).
func placeTable(r registry.Reader) (*places.Table, error) { return hubcore.PlaceTable(r) }

func (c *cli) placesImport(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub places import")
	data := c.dataFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one file to import")
	}
	file := c.path(pos[0])
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", file, unwrapPath(err))
	}
	defer f.Close()
	ps, err := places.ParseANPR(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var comuni, states int
	for _, p := range ps {
		if p.Kind == places.State {
			states++
		} else {
			comuni++
		}
	}
	return c.withStore(ctx, *data, writeCreate, func(st registry.Store) error {
		if err := st.Update(ctx, func(w registry.Writer) error { return w.PutPlaces(ps) }); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "imported %s place records (%d comuni, %d foreign states) from %s\n",
			strconv.Itoa(len(ps)), comuni, states, file)
		return nil
	})
}

// unwrapPath drops the *PathError wrapper whose path the message already names.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
