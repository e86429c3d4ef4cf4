package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// staffView is staff.Tx on one database transaction (tables staff_*,
// migration 0008).
type staffView struct{ t *tx }

// Staff returns the console records' view of t.
func (t *tx) Staff() staff.Tx { return staffView{t} }

func (v staffView) write() error {
	if !v.t.writable {
		return store.ErrReadOnly
	}
	return nil
}

func (v staffView) exec(what, sql string, args ...any) (int64, error) {
	if err := v.write(); err != nil {
		return 0, err
	}
	tag, err := v.t.ptx.Exec(v.t.ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("cannot %s: %w", what, err)
	}
	return tag.RowsAffected(), nil
}

func (v staffView) AddAccount(a *staff.Account, replace bool) error {
	if err := v.write(); err != nil {
		return err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	sql := "INSERT INTO staff_accounts (user_name, record) VALUES ($1, $2) ON CONFLICT (user_name) DO NOTHING"
	if replace {
		sql = "INSERT INTO staff_accounts (user_name, record) VALUES ($1, $2) ON CONFLICT (user_name) DO UPDATE SET record = EXCLUDED.record"
	}
	n, err := v.exec("store the account "+a.User, sql, a.User, data)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %q; give --replace to set a new password and role", staff.ErrExists, a.User)
	}
	return v.ClearTallies(a.User)
}

func (v staffView) PutAccount(a *staff.Account) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = v.exec("store the account "+a.User, `INSERT INTO staff_accounts (user_name, record) VALUES ($1, $2)
		ON CONFLICT (user_name) DO UPDATE SET record = EXCLUDED.record`, a.User, data)
	return err
}

func decodeAccount(user string, data []byte) (*staff.Account, error) {
	a := new(staff.Account)
	if err := json.Unmarshal(data, a); err != nil {
		return nil, fmt.Errorf("the stored account %q is damaged: %w", user, err)
	}
	return a, nil
}

// forUpdate locks what a write transaction reads, so that what it then
// writes is decided on rows no other hub changes meanwhile.
func (v staffView) forUpdate(sql string) string {
	if v.t.writable {
		return sql + " FOR UPDATE"
	}
	return sql
}

func (v staffView) Account(user string) (*staff.Account, error) {
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, v.forUpdate("SELECT record FROM staff_accounts WHERE user_name = $1"), user).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", staff.ErrNotFound, user)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the account %q: %w", user, err)
	}
	return decodeAccount(user, data)
}

func (v staffView) Accounts() ([]*staff.Account, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, v.forUpdate("SELECT user_name, record FROM staff_accounts ORDER BY user_name"))
	if err != nil {
		return nil, fmt.Errorf("cannot read the accounts: %w", err)
	}
	var out []*staff.Account
	var user string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&user, &data}, func() error {
		a, err := decodeAccount(user, data)
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the accounts: %w", err)
	}
	return out, nil
}

func tokenSHA256(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (v staffView) PutSession(token string, sess *staff.Session) error {
	data, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	_, err = v.exec("store a session", `INSERT INTO staff_sessions (token_sha256, user_name, record) VALUES ($1, $2, $3)
		ON CONFLICT (token_sha256) DO UPDATE SET user_name = EXCLUDED.user_name, record = EXCLUDED.record`, tokenSHA256(token), sess.User, data)
	return err
}

func (v staffView) Session(token string) (*staff.Session, error) {
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, v.forUpdate("SELECT record FROM staff_sessions WHERE token_sha256 = $1"), tokenSHA256(token)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, staff.ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read a session: %w", err)
	}
	sess := new(staff.Session)
	if err := json.Unmarshal(data, sess); err != nil {
		return nil, fmt.Errorf("a stored session is damaged: %w", err)
	}
	return sess, nil
}

func (v staffView) DeleteSession(token string) error {
	_, err := v.exec("end a session", "DELETE FROM staff_sessions WHERE token_sha256 = $1", tokenSHA256(token))
	return err
}

func (v staffView) EndSessions(user string) error {
	_, err := v.exec("end the sessions of "+user, "DELETE FROM staff_sessions WHERE user_name = $1", user)
	return err
}

func (v staffView) PurgeSessions(now time.Time) (int, error) {
	if err := v.write(); err != nil {
		return 0, err
	}
	// Liveness is staff.Session.Live's to decide: the rows are read and
	// the dead ones deleted by key. Sessions are few (one per signed-in
	// browser).
	// Sessions being changed (a log-in, a log-out) are skipped, not
	// waited for: the purge then never holds one session while it waits
	// for another (see PurgeTallies), and the next purge sees them.
	rows, err := v.t.ptx.Query(v.t.ctx, "SELECT token_sha256, record FROM staff_sessions FOR UPDATE SKIP LOCKED")
	if err != nil {
		return 0, fmt.Errorf("cannot read the sessions: %w", err)
	}
	var dead []string
	var key string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&key, &data}, func() error {
		var sess staff.Session
		if json.Unmarshal(data, &sess) != nil || !sess.Live(now) {
			dead = append(dead, key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cannot read the sessions: %w", err)
	}
	if len(dead) == 0 {
		return 0, nil
	}
	n, err := v.exec("delete ended sessions", "DELETE FROM staff_sessions WHERE token_sha256 = ANY($1)", dead)
	return int(n), err
}

// tallyRows are the keys of one attempt's tallies, in staff.Tallies'
// order (pair, source, account) — also the order their locks are taken
// in, so attempts never wait on each other in a cycle.
func tallyRows(user, source string) [3][3]string {
	user = staff.TallyUser(user)
	return [3][3]string{{"p", user, source}, {"s", "", source}, {"a", user, ""}}
}

func (v staffView) Tallies(user, source string, now time.Time) (staff.Tallies, error) {
	var ts staff.Tallies
	dsts := [3]*staff.Tally{&ts.Pair, &ts.Source, &ts.Account}
	for i, k := range tallyRows(user, source) {
		if v.t.writable {
			// A row not yet there cannot be locked: the key's advisory
			// lock stands for it until the transaction ends.
			if err := v.t.lock("staff/tally\x00" + k[0] + "\x00" + k[1] + "\x00" + k[2]); err != nil {
				return ts, err
			}
		}
		var data []byte
		err := v.t.ptx.QueryRow(v.t.ctx, "SELECT tally FROM staff_tallies WHERE kind = $1 AND user_name = $2 AND source = $3", k[0], k[1], k[2]).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return ts, fmt.Errorf("cannot read the failed log-ins: %w", err)
		}
		if json.Unmarshal(data, dsts[i]) != nil {
			*dsts[i] = staff.Tally{Until: now.Add(time.Minute)}
		}
	}
	return ts, nil
}

func (v staffView) PutTallies(user, source string, ts staff.Tallies) error {
	for i, k := range tallyRows(user, source) {
		data, err := json.Marshal([3]staff.Tally{ts.Pair, ts.Source, ts.Account}[i])
		if err != nil {
			return err
		}
		_, err = v.exec("record the failed log-ins", `INSERT INTO staff_tallies (kind, user_name, source, tally) VALUES ($1, $2, $3, $4)
			ON CONFLICT (kind, user_name, source) DO UPDATE SET tally = EXCLUDED.tally`, k[0], k[1], k[2], data)
		if err != nil {
			return err
		}
	}
	return nil
}

func (v staffView) ClearTallies(user string) error {
	_, err := v.exec("clear the failed log-ins of "+user,
		"DELETE FROM staff_tallies WHERE kind IN ('p', 'a') AND user_name = $1", staff.TallyUser(user))
	return err
}

func (v staffView) PurgeTallies(th staff.Throttle, now time.Time) error {
	if err := v.write(); err != nil {
		return err
	}
	// A log-in attempt locks its three rows one after the other (tallyRows'
	// order) while it records them; the purge, which reads every row,
	// would take them in the table's order and could hold one an attempt
	// wants next while waiting for one it holds: a deadlock. Rows an
	// attempt holds are being changed, so not idle: the purge skips them
	// and never waits, and the next purge looks at them again.
	rows, err := v.t.ptx.Query(v.t.ctx, "SELECT kind, user_name, source, tally FROM staff_tallies FOR UPDATE SKIP LOCKED")
	if err != nil {
		return fmt.Errorf("cannot read the failed log-ins: %w", err)
	}
	var kinds, users, sources []string
	var kind, user, source string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&kind, &user, &source, &data}, func() error {
		r := map[string]staff.Rule{"p": th.Pair, "s": th.Source, "a": th.Account}[kind]
		var t staff.Tally
		if json.Unmarshal(data, &t) != nil || r.Idle(t, now) {
			kinds, users, sources = append(kinds, kind), append(users, user), append(sources, source)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot read the failed log-ins: %w", err)
	}
	if len(kinds) == 0 {
		return nil
	}
	_, err = v.exec("purge idle failed log-ins", `DELETE FROM staff_tallies t USING unnest($1::text[], $2::text[], $3::text[]) AS d(kind, user_name, source)
		WHERE t.kind = d.kind::"char" AND t.user_name = d.user_name AND t.source = d.source`, kinds, users, sources)
	return err
}

func (v staffView) Count(day protocol.Day, kind, reason string) error {
	_, err := v.exec("count a "+kind, `INSERT INTO staff_events (day, kind, reason, count) VALUES ($1, $2, $3, 1)
		ON CONFLICT (day, kind, reason) DO UPDATE SET count = staff_events.count + 1`, day.String(), kind, reason)
	return err
}

func (v staffView) Events(from, to protocol.Day) ([]staff.EventCount, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, `SELECT day, kind, reason, count FROM staff_events WHERE day >= $1 AND day <= $2
		ORDER BY day, kind, reason`, from.String(), to.String())
	if err != nil {
		return nil, fmt.Errorf("cannot read the counters: %w", err)
	}
	var out []staff.EventCount
	var day, kind, reason string
	var count int64
	_, err = pgx.ForEachRow(rows, []any{&day, &kind, &reason, &count}, func() error {
		d, err := protocol.ParseDay(day)
		if err != nil {
			return fmt.Errorf("a stored counter has day %q: %w", day, err)
		}
		out = append(out, staff.EventCount{Day: d, Kind: kind, Reason: reason, Count: uint64(count)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the counters: %w", err)
	}
	return out, nil
}
