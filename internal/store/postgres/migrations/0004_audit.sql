-- 0004: the audit log (internal/audit), the buckets auditbolt keeps.
--
-- Each entry is stored as audit.Next wrote it (record: the canonical
-- encoding followed by the chain hash), so the chain verifies byte for
-- byte as on bbolt. Beside it, as columns, only what a search selects by;
-- they are not chained, so Verify checks them against the record: an edited
-- column would otherwise hide a read from an auditor's search.
--
-- One chain for every hub on the database: an append locks the head row
-- (SELECT … FOR UPDATE) until its transaction ends, so two hubs never
-- number an entry alike or chain two entries from one head.

CREATE TABLE audit_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq bigint NOT NULL CHECK (seq >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    day text COLLATE "C" NOT NULL -- YYYYMMDD (Rome) of the latest day seen, '' for the empty log
);
INSERT INTO audit_head (seq, hash, day) VALUES (0, decode(repeat('00', 32), 'hex'), '');

CREATE TABLE audit_log (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    day text COLLATE "C" NOT NULL,        -- YYYYMMDD in Rome
    subject text COLLATE "C" NOT NULL,    -- codice fiscale, upper case
    actor_kind text COLLATE "C" NOT NULL,
    actor_id text COLLATE "C" NOT NULL,
    clerk_id text COLLATE "C" NOT NULL,   -- '' when no clerk
    record bytea NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, actor_kind, seq);
CREATE INDEX audit_log_day ON audit_log (day, seq);
CREATE INDEX audit_log_clerk ON audit_log (clerk_id, seq) WHERE clerk_id <> '';

-- The head at the end of each closed day, never overwritten.
CREATE TABLE audit_anchors (
    day text COLLATE "C" PRIMARY KEY,
    seq bigint NOT NULL CHECK (seq > 0),
    hash bytea NOT NULL CHECK (length(hash) = 32)
);

-- The retention checkpoint (audit.Pruned); through_seq 0: nothing pruned.
CREATE TABLE audit_pruned (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    through_seq bigint NOT NULL,
    through_hash bytea NOT NULL,
    at_seq bigint NOT NULL,
    at_hash bytea NOT NULL
);
INSERT INTO audit_pruned (through_seq, through_hash, at_seq, at_hash)
VALUES (0, decode(repeat('00', 32), 'hex'), 0, decode(repeat('00', 32), 'hex'));
