-- 0010: payments (internal/payment), paybolt's buckets as one table.
--
-- The payment is stored whole as JSONB in its domain JSON form; beside it
-- only what is looked up: the request key, the operator, the till code and
-- the creation time in Unix nanoseconds (the order of an operator's list,
-- as paybolt's). seq orders payments by creation in the database, so "the
-- latest payment of a key (or a till code)" is the one with the highest
-- seq, as paybolt's key index names the one created last.
--
-- Uniqueness of a live key and of a pending till code depends on states
-- and times that change without a write (a payment expires by the clock),
-- so it is not a constraint: Create takes an advisory transaction lock on
-- the key and on the code, and checks under it.
CREATE TABLE payments (
    id text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    request_key text NOT NULL,
    operator_id text NOT NULL,
    till_code text NOT NULL DEFAULT '',
    created_ns bigint NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX payments_key ON payments (request_key, seq);
CREATE INDEX payments_code ON payments (operator_id, till_code, seq) WHERE till_code <> '';
CREATE INDEX payments_operator ON payments (operator_id, created_ns, id COLLATE "C");
