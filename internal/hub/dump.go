package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	return runTool(ctx, bin, "--format=custom", "--no-owner", "--no-privileges", "--file="+file, "--dbname="+conn)
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
	return runTool(ctx, bin, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--dbname="+conn, file)
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

func runTool(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s failed: %s", filepath.Base(bin), msg)
	}
	return nil
}
