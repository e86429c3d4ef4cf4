package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
)

// withPlaces runs fn with the places table of the registry in dataDir, or
// the embedded default when there is no registry.
func init() {
	register(
		command{Name: "cf check", Usage: "[--data DIR] CODE", Help: "validate and decode a codice fiscale", Run: (*cli).cfCheck},
		command{Name: "cf encode", Usage: "--surname S --name N --sex M|F --birth YYYY-MM-DD --place CODE [--data DIR]", Help: "compute a codice fiscale", Run: (*cli).cfEncode},
	)
}

func (c *cli) withPlaces(ctx context.Context, dataDir string, fn func(*places.Table) error) error {
	return c.withStore(ctx, dataDir, readIfAny, func(st registry.Store) error {
		if st == nil {
			t, _ := placeTable(nil)
			return fn(t)
		}
		return st.View(ctx, func(r registry.Reader) error {
			t, err := placeTable(r)
			if err != nil {
				return err
			}
			return fn(t)
		})
	})
}

func (c *cli) cfCheck(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub cf check")
	data := c.dataFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one codice fiscale")
	}
	return c.withPlaces(ctx, *data, func(t *places.Table) error {
		info, err := codicefiscale.Decode(pos[0], t, c.now())
		if err != nil {
			return err
		}
		fmt.Fprint(c.stdout, info.Describe())
		return nil
	})
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func (c *cli) cfEncode(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub cf encode")
	data := c.dataFlag(fs)
	surname := fs.String("surname", "", "surname(s)")
	name := fs.String("name", "", "given name(s)")
	sex := fs.String("sex", "", "M or F")
	birth := fs.String("birth", "", "birth date, YYYY-MM-DD")
	place := fs.String("place", "", "Belfiore code of the birthplace (Z### abroad)")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *surname == "" || *name == "":
		return usagef("--surname and --name are required")
	case *sex != "M" && *sex != "F" && *sex != "m" && *sex != "f":
		return usagef("--sex must be M or F")
	case *birth == "" || *place == "":
		return usagef("--birth and --place are required")
	}
	born, err := time.Parse("2006-01-02", *birth)
	if err != nil {
		if datePattern.MatchString(*birth) {
			return fmt.Errorf("the birth date %s does not exist in the calendar", *birth)
		}
		return usagef("--birth must be a date in the form YYYY-MM-DD")
	}
	if born.After(c.now()) {
		return fmt.Errorf("the birth date %s is in the future", *birth)
	}
	code := strings.ToUpper(*place)
	return c.withPlaces(ctx, *data, func(t *places.Table) error {
		if len(t.History(code)) == 0 {
			return fmt.Errorf("the place code %s is not in the loaded places tables (a Belfiore code such as F205, or Z### abroad; import ANPR's archive with hub places import)", code)
		}
		if _, ok := t.Lookup(code, born); !ok {
			return fmt.Errorf("the place %s did not exist on %s", code, *birth)
		}
		cf, err := codicefiscale.Encode(codicefiscale.Subject{
			Surname: *surname, Name: *name, Sex: strings.ToUpper(*sex)[0], Birth: born, Place: code,
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, cf)
		return nil
	})
}
