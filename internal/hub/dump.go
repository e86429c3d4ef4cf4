package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/store/postgres"
)

// DumpDatabase writes the PostgreSQL database at conn into file with
// pg_dump's custom format: one snapshot, taken while hubs keep writing.
func DumpDatabase(ctx context.Context, conn, file string) error {
	bin, err := pgTool("pg_dump")
	if err != nil {
		return err
	}
	conn, env := toolConn(conn)
	return runTool(ctx, bin, env, "--format=custom", "--no-owner", "--no-privileges", "--file="+file, "--dbname="+conn)
}

// RestoreDatabase loads file, written by DumpDatabase, into the database at
// conn, which must hold no table: in one transaction, so a failure leaves
// the database as empty as it was.
func RestoreDatabase(ctx context.Context, conn, file string) error {
	empty, err := postgres.Empty(ctx, conn)
	if err != nil {
		return err
	}
	if !empty {
		return errors.New("the database already holds tables: a restore never mixes a backup with records already there; create an empty database")
	}
	bin, err := pgTool("pg_restore")
	if err != nil {
		return err
	}
	conn, env := toolConn(conn)
	return runTool(ctx, bin, env, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--dbname="+conn, file)
}

// pgTool finds a PostgreSQL client program: on the PATH (Debian's wrapper
// picks the newest client installed), else in the newest
// /usr/lib/postgresql/N/bin.
func pgTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) < major(dirs[j]) })
	if len(dirs) > 0 {
		return dirs[len(dirs)-1], nil
	}
	return "", fmt.Errorf("%s is not installed: apt-get install postgresql-client", name)
}

func major(p string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
	return n
}

// toolConn splits the database's password off conn (a postgres:// URL or
// key=value words) into PGPASSWORD for the client program's environment:
// a command line is visible to every user of the machine in ps, the
// environment only to the process's own user.
func toolConn(conn string) (string, []string) {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err != nil {
			return conn, nil // the client program says what is wrong with it
		}
		pw, set := "", false
		if u.User != nil {
			pw, set = u.User.Password()
			if set {
				u.User = url.User(u.User.Username())
			}
		}
		q := u.Query()
		if q.Has("password") {
			pw, set = q.Get("password"), true
			q.Del("password")
			u.RawQuery = q.Encode()
		}
		if !set {
			return conn, nil
		}
		return u.String(), []string{"PGPASSWORD=" + pw}
	}
	words, ok := connWords(conn)
	if !ok {
		return conn, nil
	}
	var kept []string
	var env []string
	for _, w := range words {
		if w.key == "password" {
			env = []string{"PGPASSWORD=" + w.value}
			continue
		}
		kept = append(kept, w.raw)
	}
	return strings.Join(kept, " "), env
}

type connWord struct{ key, value, raw string }

// connWords splits libpq's key=value words, a value maybe in single quotes
// with backslash escapes; false when conn is not such words.
func connWords(conn string) ([]connWord, bool) {
	var words []connWord
	s := conn
	for {
		s = strings.TrimLeft(s, " \t\n")
		if s == "" {
			return words, true
		}
		start := s
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		var value strings.Builder
		if strings.HasPrefix(s, "'") {
			i, closed := 1, false
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					value.WriteByte(s[i])
					continue
				}
				if s[i] == '\'' {
					closed = true
					i++
					break
				}
				value.WriteByte(s[i])
			}
			if !closed {
				return nil, false
			}
			s = s[i:]
		} else {
			end := strings.IndexAny(s, " \t\n")
			if end < 0 {
				end = len(s)
			}
			value.WriteString(s[:end])
			s = s[end:]
		}
		words = append(words, connWord{key, value.String(), strings.TrimSpace(start[:len(start)-len(s)])})
	}
}

func runTool(ctx context.Context, bin string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(append(os.Environ(), "PGCONNECT_TIMEOUT=10"), env...)
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s failed: %s", filepath.Base(bin), msg)
	}
	return nil
}
