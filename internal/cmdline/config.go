package cmdline

import (
	"bufio"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
)

// Defaults are where a command's flags take the values the command line
// does not give: first the environment (Prefix followed by the flag's name
// in capitals, dashes as underscores: SPORTELLO_PUBLIC_URL for
// --public-url), then the settings file. One place for every command, so
// that a hub.conf line means the same to hub serve and to a staff command.
type Defaults struct {
	Prog   string              // the program's name, which FlagSet names start with ("hub")
	Prefix string              // of the environment variables ("SPORTELLO_")
	Getenv func(string) string // os.Getenv, or a test's
	File   *Config             // nil: no settings file
	// Groups are flags that together make one setting (the TLS mode:
	// --tls-cert and --tls-key, --tls-self-signed, --insecure-plain-http).
	// The highest source that gives any flag of a group gives the whole
	// setting: the lower sources' values for the others are not applied,
	// so the file's tls-self-signed gives way to SPORTELLO_TLS_CERT or
	// to --insecure-plain-http instead of conflicting with them.
	Groups [][]string
}

// Where a flag's value comes from, lowest first.
const (
	fromNone = iota
	fromFile
	fromEnv
	fromCommandLine
)

// defaults is what Parse applies; only a program's main sets it, so tests
// that run commands in-process see the command line alone.
var defaults atomic.Pointer[Defaults]

// SetDefaults makes Parse fill the flags the command line leaves unset
// from d (nil: from nothing).
func SetDefaults(d *Defaults) { defaults.Store(d) }

// Config is a settings file: NAME = VALUE lines, each the value of flag
// --NAME. Lines before any [section] are for every command that has the
// flag; the lines under [serve] (or [person list]) only for that command,
// and there a flag the command lacks is an error, not a silent no-op. A
// repeatable flag may be given on several lines. # or ; starts a comment
// line; a value may be put in double quotes to keep its outer spaces.
type Config struct {
	Path    string
	entries []configEntry
}

type configEntry struct {
	section, name, value string
	line                 int
}

var (
	configSection = regexp.MustCompile(`^\[\s*([a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)?)\s*\]$`)
	configName    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// ReadConfig reads the settings file at path. A file that is not there is
// no error when optional (the default path of a program that has not been
// set up), and nil is returned; so is one the user may not read, since the
// packaged /etc/sportello/hub.conf is 0640 root:sportello (it may hold a
// database password) and anyone may still run hub cf check. Every error
// names the file and the line and is a UsageError: a bad settings file is
// bad usage (exit 2).
func ReadConfig(path string, optional bool) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if optional && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)) {
			return nil, nil
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, Usagef("cannot read the settings file %s: %v", path, err)
	}
	defer f.Close()
	return ParseConfig(path, f)
}

// ParseConfig reads a settings file's text from r; path names it in errors.
func ParseConfig(path string, r io.Reader) (*Config, error) {
	c := &Config{Path: path}
	sc := bufio.NewScanner(r)
	section := ""
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			m := configSection.FindStringSubmatch(line)
			if m == nil {
				return nil, Usagef("%s:%d: %q is not a section such as [serve] or [person list]", path, n, line)
			}
			section = m[1]
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok {
			return nil, Usagef("%s:%d: %q is not NAME = VALUE", path, n, line)
		}
		name = strings.TrimLeft(name, "-") // "--addr = …" is what was meant
		if !configName.MatchString(name) {
			return nil, Usagef("%s:%d: %q is not a flag's name (lower-case letters, digits and dashes)", path, n, name)
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		c.entries = append(c.entries, configEntry{section, name, value, n})
	}
	if err := sc.Err(); err != nil {
		return nil, Usagef("cannot read the settings file %s: %v", path, err)
	}
	return c, nil
}

// apply sets each flag of fs the command line left unset from the
// environment, else from the file.
func (d *Defaults) apply(fset *flag.FlagSet) error {
	given := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { given[f.Name] = true })
	command := strings.TrimPrefix(fset.Name(), d.Prog+" ")

	if d.File != nil {
		for _, e := range d.File.entries {
			if e.section == command && fset.Lookup(e.name) == nil {
				return Usagef("%s:%d: %s %s has no flag --%s", d.File.Path, e.line, d.Prog, command, e.name)
			}
		}
	}
	// The source each flag would take its value from, and each group's
	// highest: a flag of a group below it is left at its default.
	source := func(name string) int {
		switch {
		case given[name]:
			return fromCommandLine
		case d.getenv(d.envName(name)) != "":
			return fromEnv
		case d.File != nil && d.File.has(command, name):
			return fromFile
		}
		return fromNone
	}
	floor := map[string]int{}
	for _, g := range d.Groups {
		top := fromNone
		for _, name := range g {
			if fset.Lookup(name) != nil {
				top = max(top, source(name))
			}
		}
		for _, name := range g {
			floor[name] = top
		}
	}
	var err error
	fset.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] || source(f.Name) < floor[f.Name] {
			return
		}
		env := d.envName(f.Name)
		if v := d.getenv(env); v != "" {
			if serr := fset.Set(f.Name, v); serr != nil {
				err = Usagef("$%s=%q is not a value for --%s: %v", env, v, f.Name, serr)
			}
			return
		}
		if d.File == nil {
			return
		}
		// The command's own section wins over the lines for every
		// command; within one, a repeatable flag takes every line.
		var lines []configEntry
		for _, want := range []string{command, ""} {
			for _, e := range d.File.entries {
				if e.section == want && e.name == f.Name {
					lines = append(lines, e)
				}
			}
			if len(lines) > 0 {
				break
			}
		}
		for _, e := range lines {
			if serr := fset.Set(f.Name, e.value); serr != nil {
				err = Usagef("%s:%d: %q is not a value for --%s: %v", d.File.Path, e.line, e.value, f.Name, serr)
				return
			}
		}
	})
	return err
}

// envName is the environment variable of flag name: SPORTELLO_PUBLIC_URL.
func (d *Defaults) envName(name string) string {
	return d.Prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// has says whether the file gives flag name to command, in its section or
// before any.
func (c *Config) has(command, name string) bool {
	for _, e := range c.entries {
		if (e.section == command || e.section == "") && e.name == name {
			return true
		}
	}
	return false
}

func (d *Defaults) getenv(name string) string {
	if d.Getenv == nil {
		return ""
	}
	return d.Getenv(name)
}

// Setting is the value the program's Defaults give flag name of command
// ("serve") when the command line does not: $PREFIX_NAME, else the
// file's line for it, the command's section first; def when neither
// has one. It is FlagValue's default for what must be known before the
// command parses its flags (which file a command will open).
func Setting(command, name, def string) string {
	d := defaults.Load()
	if d == nil {
		return def
	}
	if v := d.getenv(d.Prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
		return v
	}
	if d.File == nil {
		return def
	}
	for _, section := range []string{command, ""} {
		v, found := "", false
		for _, e := range d.File.entries {
			if e.section == section && e.name == name {
				v, found = e.value, true // the last line counts, as Set would leave it
			}
		}
		if found {
			return v
		}
	}
	return def
}
