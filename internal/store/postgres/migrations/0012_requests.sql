-- 0012: the demographic requests (internal/request), requestbolt's buckets
-- as tables.
--
-- The request is stored whole as JSONB in its domain JSON form; beside it
-- what is looked up or must be unique: the kind and status (the console's
-- queues), the filing time in Unix nanoseconds (their order), the
-- idempotency key (unique: two hubs filing the same kiosk request at once
-- cannot both succeed) and the version the optimistic check compares.
-- request_persons indexes each request under every person it concerns.
CREATE TABLE requests (
    id text PRIMARY KEY,
    kind text NOT NULL,
    status text NOT NULL,
    filed_ns bigint NOT NULL,
    idempotency_key text,
    version integer NOT NULL,
    record jsonb NOT NULL
);
CREATE UNIQUE INDEX requests_key ON requests (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX requests_queue ON requests (kind, filed_ns, id COLLATE "C");
CREATE INDEX requests_filed ON requests (filed_ns, id COLLATE "C");

CREATE TABLE request_persons (
    cf text NOT NULL,
    request_id text NOT NULL REFERENCES requests (id),
    filed_ns bigint NOT NULL,
    PRIMARY KEY (cf, request_id)
);
CREATE INDEX request_persons_order ON request_persons (cf, filed_ns DESC, request_id COLLATE "C" DESC);

-- Attachments by content: the same bytes filed twice are kept once.
CREATE TABLE request_attachments (
    sha256 text PRIMARY KEY,
    data bytea NOT NULL
);
