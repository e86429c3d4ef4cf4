-- 0003: issued certificates (internal/certificate, certificate.Tx), the
-- records certbolt keeps as buckets. PDFs are not here: they are kept by
-- content in a blob store, and a record names its document by doc_sha256
-- inside the JSON.
--
-- A record is stored whole in certificate.EncodeRecord's form (its JSON,
-- compressed with a preset dictionary: issue 16 allows 2 KB per
-- certificate with indexes, and the JSON alone is 1.0-1.5 KB, which
-- PostgreSQL does not compress below its 2 KB TOAST threshold); beside
-- it, as columns, only what is searched or must be unique, written from
-- the same record by the same statement so they cannot drift.
CREATE TABLE certificates (
    id text PRIMARY KEY,
    year integer NOT NULL,          -- protocol year
    seq bigint NOT NULL,            -- protocol progressive, unique in the year
    day date NOT NULL,              -- of issue, in Rome (protocol.DayOf)
    issued timestamptz NOT NULL,
    operator_id text NOT NULL,      -- '' at the office and on self-service
    subject_cf text NOT NULL,       -- upper case
    requester_cf text NOT NULL,     -- upper case, '' when none
    -- The request's idempotency key, NULL without one: unique, so two hubs
    -- given one key issue one certificate; purged with the record.
    idempotency_key text UNIQUE,
    pdf_kept boolean NOT NULL,      -- false once the re-download window ended
    record bytea NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX certificates_day ON certificates (day, seq);
CREATE INDEX certificates_operator ON certificates (operator_id, day, seq) WHERE operator_id <> '';
CREATE INDEX certificates_subject ON certificates (subject_cf, day, seq);
CREATE INDEX certificates_requester ON certificates (requester_cf, day, seq) WHERE requester_cf <> '';
CREATE INDEX certificates_pdf_kept ON certificates (day, seq) WHERE pdf_kept;

-- A contrassegno telematico (marca da bollo) pays for one document for
-- ever (art. 12 DPR 642/1972): the row stays when its certificate is
-- revoked or purged.
CREATE TABLE certificate_contrassegni (
    contrassegno text PRIMARY KEY,
    certificate_id text NOT NULL
);

-- What is kept of a purged certificate (certificate.Purged): its id, the
-- day and when, no personal data.
CREATE TABLE certificates_purged (
    id text PRIMARY KEY,
    record jsonb NOT NULL
);
