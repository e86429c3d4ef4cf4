package cmdline

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

type state struct{ got []string }

var cmds = []Command[*state]{
	{Name: "person list", Usage: "[--limit N]", Help: "list", Run: func(s *state, _ context.Context, args []string) error {
		fs := FlagSet("person list")
		limit := fs.Int("limit", 0, "list at most N")
		pos, err := Parse(fs, args)
		if err != nil {
			return err
		}
		if *limit < 0 {
			return Usagef("--limit must not be negative")
		}
		s.got = pos
		return nil
	}},
	{Name: "person", Usage: "", Help: "one word", Run: func(s *state, _ context.Context, args []string) error {
		return errors.New("refused")
	}},
}

func TestExecAndReport(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		pos      string
		out, err string
	}{
		{[]string{"person", "list", "a", "--limit", "3", "b"}, 0, "a,b", "", ""},
		{[]string{"person", "list", "--limit", "-1"}, 2, "", "", "prog person list: --limit must not be negative\nusage: prog person list [--limit N]\n"},
		{[]string{"person", "list", "--bogus"}, 2, "", "", "flag provided but not defined"},
		{[]string{"person", "x"}, 1, "", "", "prog person: refused.\n"},
		{[]string{"nothing"}, 2, "", "", `unknown command "nothing"`},
		{nil, 0, "", "Commands:", ""},
		{[]string{"help"}, 0, "", "prog person list [--limit N]", ""},
		{[]string{"person", "list", "--help"}, 0, "", "flags:\n  -limit int", ""},
	}
	for _, tt := range tests {
		s := &state{}
		var out, errOut bytes.Buffer
		cmd, err := Exec(context.Background(), s, cmds, tt.args)
		code := Report(&out, &errOut, "prog", "a test program", cmds, cmd, tt.args, err)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d", tt.args, code, tt.code)
		}
		if got := strings.Join(s.got, ","); got != tt.pos {
			t.Errorf("%v: positional %q, want %q", tt.args, got, tt.pos)
		}
		if !strings.Contains(out.String(), tt.out) || (tt.out == "" && out.Len() > 0) {
			t.Errorf("%v: stdout %q, want %q", tt.args, out.String(), tt.out)
		}
		if !strings.Contains(errOut.String(), tt.err) || (tt.err == "" && errOut.Len() > 0) {
			t.Errorf("%v: stderr %q, want %q", tt.args, errOut.String(), tt.err)
		}
	}
}

func TestFlagValue(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"person", "list", "--unknown", "x", "--data", "d1"}, "d1"},
		{[]string{"serve", "-data=d2", "--demo"}, "d2"},
		{[]string{"check", "--data=d3", "-data", "d4"}, "d4"},
		{[]string{"check", "--", "--data", "d5"}, "def"},
		{[]string{"check", "--data"}, "def"},
	} {
		if got := FlagValue(tt.args, "data", "def"); got != tt.want {
			t.Errorf("FlagValue(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
