package cmdline

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// serveFlags is a command with the kinds of flag the hub has.
func serveFlags(name string) (*flag.FlagSet, *string, *string, *bool, *int, *multi) {
	fs := FlagSet(name)
	data := fs.String("data", "sportello-data", "")
	addr := fs.String("addr", "127.0.0.1:8080", "")
	tls := fs.Bool("tls-self-signed", false, "")
	conns := fs.Int("max-connections", 100, "")
	var proxies multi
	fs.Var(&proxies, "trusted-proxy", "")
	return fs, data, addr, tls, conns, &proxies
}

const settings = `
# every command
data = /var/lib/sportello
addr = 0.0.0.0:1
trusted-proxy = 10.0.0.1

[serve]
addr = 0.0.0.0:8443
tls-self-signed = true
trusted-proxy = 10.0.0.2
trusted-proxy = "10.0.0.3"
`

func withDefaults(t *testing.T, env map[string]string, text string) {
	t.Helper()
	var file *Config
	if text != "" {
		var err error
		if file, err = ParseConfig("hub.conf", strings.NewReader(text)); err != nil {
			t.Fatal(err)
		}
	}
	SetDefaults(&Defaults{Prog: "hub", Prefix: "SPORTELLO_", Getenv: func(k string) string { return env[k] }, File: file})
	t.Cleanup(func() { SetDefaults(nil) })
}

func TestDefaultsPrecedence(t *testing.T) {
	t.Run("file, the command's section first", func(t *testing.T) {
		withDefaults(t, nil, settings)
		fs, data, addr, tls, conns, proxies := serveFlags("hub serve")
		if _, err := Parse(fs, nil); err != nil {
			t.Fatal(err)
		}
		if *data != "/var/lib/sportello" || *addr != "0.0.0.0:8443" || !*tls || *conns != 100 {
			t.Errorf("data %q addr %q tls %v conns %d", *data, *addr, *tls, *conns)
		}
		if want := (multi{"10.0.0.2", "10.0.0.3"}); !reflect.DeepEqual(*proxies, want) {
			t.Errorf("trusted proxies %v, want %v", *proxies, want)
		}
	})
	t.Run("another command takes the lines for every command", func(t *testing.T) {
		withDefaults(t, nil, settings)
		fs, data, addr, tls, _, proxies := serveFlags("hub loadtest")
		if _, err := Parse(fs, nil); err != nil {
			t.Fatal(err)
		}
		if *data != "/var/lib/sportello" || *addr != "0.0.0.0:1" || *tls || !reflect.DeepEqual(*proxies, multi{"10.0.0.1"}) {
			t.Errorf("data %q addr %q tls %v proxies %v", *data, *addr, *tls, *proxies)
		}
	})
	t.Run("environment over file", func(t *testing.T) {
		withDefaults(t, map[string]string{"SPORTELLO_ADDR": "127.0.0.1:9", "SPORTELLO_MAX_CONNECTIONS": "7"}, settings)
		fs, data, addr, _, conns, _ := serveFlags("hub serve")
		if _, err := Parse(fs, nil); err != nil {
			t.Fatal(err)
		}
		if *addr != "127.0.0.1:9" || *conns != 7 || *data != "/var/lib/sportello" {
			t.Errorf("addr %q conns %d data %q", *addr, *conns, *data)
		}
	})
	t.Run("flags over environment and file", func(t *testing.T) {
		withDefaults(t, map[string]string{"SPORTELLO_ADDR": "127.0.0.1:9"}, settings)
		fs, data, addr, _, _, proxies := serveFlags("hub serve")
		pos, err := Parse(fs, []string{"extra", "--addr", "[::1]:1", "--trusted-proxy=10.9.9.9", "--data", "d"})
		if err != nil {
			t.Fatal(err)
		}
		if *addr != "[::1]:1" || *data != "d" || !reflect.DeepEqual(*proxies, multi{"10.9.9.9"}) || !reflect.DeepEqual(pos, []string{"extra"}) {
			t.Errorf("addr %q data %q proxies %v pos %v", *addr, *data, *proxies, pos)
		}
	})
	t.Run("no defaults: the command line alone", func(t *testing.T) {
		SetDefaults(nil)
		fs, data, _, _, _, _ := serveFlags("hub serve")
		if _, err := Parse(fs, nil); err != nil || *data != "sportello-data" {
			t.Errorf("data %q, err %v", *data, err)
		}
	})
}

func TestDefaultsRefused(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		text string
		want string
	}{
		{"flag the command lacks, in its section", nil, "[serve]\nadress = x\n", "hub.conf:2: hub serve has no flag --adress"},
		{"bad value in the file", nil, "max-connections = many\n", `hub.conf:1: "many" is not a value for --max-connections`},
		{"bad value in the environment", map[string]string{"SPORTELLO_TLS_SELF_SIGNED": "maybe"}, "", `$SPORTELLO_TLS_SELF_SIGNED="maybe" is not a value for --tls-self-signed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withDefaults(t, tt.env, tt.text)
			fs, _, _, _, _, _ := serveFlags("hub serve")
			_, err := Parse(fs, nil)
			var ue UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a usage error with %q", err, tt.want)
			}
		})
	}
}

func TestParseConfigRefused(t *testing.T) {
	tests := []struct{ text, want string }{
		{"data /var/lib/sportello\n", `hub.conf:1: "data /var/lib/sportello" is not NAME = VALUE`},
		{"# ok\n\n[serve\n", `hub.conf:3: "[serve" is not a section`},
		{"[Serve]\n", "is not a section"},
		{"Data = x\n", `hub.conf:1: "Data" is not a flag's name`},
		{"= x\n", `"" is not a flag's name`},
	}
	for _, tt := range tests {
		_, err := ParseConfig("hub.conf", strings.NewReader(tt.text))
		var ue UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want a usage error with %q", tt.text, err, tt.want)
		}
	}
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "hub.conf")
	if c, err := ReadConfig(missing, true); c != nil || err != nil {
		t.Errorf("optional missing file: %v, %v", c, err)
	}
	if _, err := ReadConfig(missing, false); err == nil || !strings.Contains(err.Error(), "cannot read the settings file "+missing) {
		t.Errorf("named missing file: %v", err)
	}
	if err := os.WriteFile(missing, []byte("--data = /srv/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfig(missing, false)
	if err != nil || len(c.entries) != 1 || c.entries[0] != (configEntry{"", "data", "/srv/x", 1}) {
		t.Errorf("got %+v, %v", c, err)
	}
}

func TestSetting(t *testing.T) {
	SetDefaults(nil)
	if got := Setting("serve", "data", "d"); got != "d" {
		t.Errorf("no defaults: %q", got)
	}
	withDefaults(t, map[string]string{"SPORTELLO_DB": "postgres:///x"}, settings)
	for _, tt := range []struct{ command, name, want string }{
		{"serve", "addr", "0.0.0.0:8443"},
		{"loadtest", "addr", "0.0.0.0:1"},
		{"person list", "data", "/var/lib/sportello"},
		{"serve", "db", "postgres:///x"},
		{"serve", "pdf-dir", "default"},
	} {
		if got := Setting(tt.command, tt.name, "default"); got != tt.want {
			t.Errorf("Setting(%q, %q) = %q, want %q", tt.command, tt.name, got, tt.want)
		}
	}
}

// TestGroupIsOneSetting: the shipped hub.conf's tls-self-signed gives way
// to a TLS mode given higher up, instead of making it "not both" (issue 18).
func TestGroupIsOneSetting(t *testing.T) {
	const file = "[serve]\ntls-self-signed = true\n"
	tlsFlags := func() (*flag.FlagSet, *bool, *bool, *string) {
		fs := FlagSet("hub serve")
		self := fs.Bool("tls-self-signed", false, "")
		plain := fs.Bool("insecure-plain-http", false, "")
		cert := fs.String("tls-cert", "", "")
		fs.String("tls-key", "", "")
		return fs, self, plain, cert
	}
	for _, tc := range []struct {
		name        string
		env         map[string]string
		args        []string
		self, plain bool
		cert        string
	}{
		{"file alone", nil, nil, true, false, ""},
		{"command line", nil, []string{"--insecure-plain-http"}, false, true, ""},
		{"environment", map[string]string{"SPORTELLO_TLS_CERT": "c.pem", "SPORTELLO_TLS_KEY": "k.pem"}, nil, false, false, "c.pem"},
		{"environment under command line", map[string]string{"SPORTELLO_TLS_CERT": "c.pem"}, []string{"--tls-self-signed"}, true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withDefaults(t, tc.env, file)
			d := *defaults.Load()
			d.Groups = [][]string{{"tls-cert", "tls-key", "tls-self-signed", "insecure-plain-http"}}
			SetDefaults(&d)
			fs, self, plain, cert := tlsFlags()
			if _, err := Parse(fs, tc.args); err != nil {
				t.Fatal(err)
			}
			if *self != tc.self || *plain != tc.plain || *cert != tc.cert {
				t.Errorf("tls-self-signed %v, insecure-plain-http %v, tls-cert %q; want %v, %v, %q", *self, *plain, *cert, tc.self, tc.plain, tc.cert)
			}
		})
	}
}
