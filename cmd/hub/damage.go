package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/cmdline"
	hubcore "github.com/sportello/sportello/internal/hub"
)

// adviseDamage is cmdline.AdviseDamage for hub.db.
func adviseDamage(err error) error { return cmdline.AdviseDamage(err, "hub check --data") }

// guard runs a command so that damage in the hub's file met on the way (a
// panic inside bbolt, a memory fault) ends it with one sentence, as damage
// found when the file is opened does. The command's own --data names the
// file; inside hub serve it is the serving hub's, which stops.
func (c *cli) guard(args []string, fn func() error) error {
	var file string
	// What hub.conf or the environment says when the command line does
	// not (the flags are not parsed yet).
	name := ""
	if cmd, _ := cmdline.Lookup(commands, args); cmd != nil {
		name = cmd.Name
	}
	switch {
	case c.store != nil && c.store.file == "", c.store == nil && cmdline.FlagValue(args, "db", cmdline.Setting(name, "db", os.Getenv(dbEnv))) != "":
		// The records are in PostgreSQL: no bbolt file to be damaged, and
		// a failure is not a damaged file's.
		return fn()
	case c.store != nil:
		file = c.store.file
	default:
		file = registryPath(c.path(cmdline.FlagValue(args, "data", cmdline.Setting(name, "data", defaultDataDir()))))
	}
	err := hubcore.Guard(file, fn)
	if c.damaged != nil {
		return reportDamage(err, c.damaged)
	}
	return adviseDamage(err)
}

// reportDamage tells hub serve, on damaged, that err is damage met in its
// file, so that it stops; it returns err advised (what to run next).
func reportDamage(err error, damaged chan<- error) error {
	err = adviseDamage(err)
	if _, ok := hubcore.AsDamage(err); ok {
		select {
		case damaged <- err:
		default:
		}
	}
	return err
}

// guardHTTP answers 503 to a request that meets damage in the hub's file
// (a panic inside bbolt, a memory fault), and reports the damage on
// damaged so that hub serve stops: writing on to a damaged file would
// spread the damage. Kiosks retry a 503 later, against a restored file.
func guardHTTP(next http.Handler, file string, log *slog.Logger, damaged chan<- error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := hubcore.Guard(file, func() error { next.ServeHTTP(w, r); return nil })
		if err == nil {
			return
		}
		err = reportDamage(err, damaged)
		log.Error("the hub stops: its file is damaged", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(api.Problem{Reason: api.ReasonUnavailable,
			Message: "the hub's storage is damaged and the hub is stopping; try again later"})
	})
}
