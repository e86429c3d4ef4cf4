-- 0005: operators, their devices and enrolment codes, the devices' backlog
-- reports, clerks and clerk sessions (internal/operators; opbolt keeps the
-- same as buckets).
--
-- Each record is stored whole as JSONB in the domain's own JSON form;
-- beside it, as columns, only what is searched, ordered or must be unique.
-- Ids are text in bytewise order ("C"), the order bbolt's keys have.

-- Operator and clerk ids ("op-0001", "cl-0001") come from sequences: a
-- number is never handed out twice, by any hub on the database, even when
-- the transaction that drew it fails.
CREATE SEQUENCE operator_ids;
CREATE SEQUENCE clerk_ids;

CREATE TABLE operators (
    id text COLLATE "C" PRIMARY KEY,
    record jsonb NOT NULL
);

-- Only the hash of a code is kept; the code is shown once.
CREATE TABLE enrolment_codes (
    hash text PRIMARY KEY,
    operator_id text COLLATE "C" NOT NULL REFERENCES operators (id),
    issued_at timestamptz NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX enrolment_codes_operator ON enrolment_codes (operator_id, issued_at DESC);

CREATE TABLE devices (
    key_id text COLLATE "C" PRIMARY KEY,
    operator_id text COLLATE "C" NOT NULL REFERENCES operators (id),
    record jsonb NOT NULL
);
CREATE INDEX devices_operator ON devices (operator_id, key_id);

CREATE TABLE device_backlogs (
    key_id text COLLATE "C" PRIMARY KEY REFERENCES devices (key_id),
    record jsonb NOT NULL
);

CREATE TABLE clerks (
    id text COLLATE "C" PRIMARY KEY,
    operator_id text COLLATE "C" NOT NULL REFERENCES operators (id),
    cf text NOT NULL,
    nis text NOT NULL DEFAULT '',
    record jsonb NOT NULL,
    -- One record per person and shop: a second is a reinstatement instead.
    UNIQUE (operator_id, cf)
);
CREATE INDEX clerks_cf ON clerks (cf);

CREATE TABLE clerk_sessions (
    hash text PRIMARY KEY,
    clerk_id text COLLATE "C" NOT NULL REFERENCES clerks (id),
    record jsonb NOT NULL
);
CREATE INDEX clerk_sessions_clerk ON clerk_sessions (clerk_id);
