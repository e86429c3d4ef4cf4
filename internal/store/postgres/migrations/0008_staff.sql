-- 0008: the console's records (internal/admin/staff), adminbolt's buckets
-- as tables, shared by every hub on the database: a session opened on one
-- hub is valid on all, and failed log-ins count on all.
--
-- Accounts and sessions are stored whole as JSONB in their domain JSON
-- form. A session is keyed by the hex SHA-256 of its cookie token, never
-- the token. Tallies are keyed as adminbolt's: kind 'p' (user and
-- source), 's' (source), 'a' (user), with staff.TallyUser of the name; the
-- column not used by a kind is ''.
CREATE TABLE staff_accounts (
    user_name text COLLATE "C" PRIMARY KEY,
    record jsonb NOT NULL
);

CREATE TABLE staff_sessions (
    token_sha256 text PRIMARY KEY,
    user_name text NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_name);

CREATE TABLE staff_tallies (
    kind "char" NOT NULL CHECK (kind IN ('p', 's', 'a')),
    user_name text NOT NULL,
    source text NOT NULL,
    tally jsonb NOT NULL,
    PRIMARY KEY (kind, user_name, source)
);

-- Daily counters of what the public API refused (staff.EventCount).
CREATE TABLE staff_events (
    day text COLLATE "C" NOT NULL CHECK (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'), -- protocol.Day, YYYY-MM-DD
    kind text COLLATE "C" NOT NULL,
    reason text COLLATE "C" NOT NULL,
    count bigint NOT NULL CHECK (count > 0),
    PRIMARY KEY (day, kind, reason)
);
