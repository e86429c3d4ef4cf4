-- 0001: the civil registry (internal/registry), the tables registry/bolt
-- keeps as buckets.
--
-- A person, family, event or place is stored whole as JSONB in the domain's
-- own JSON form (the json tags of internal/registry and internal/places);
-- beside it, as columns, only what is searched or must be unique: the exact
-- codice fiscale, its omocodia base, the name key, the current family, and
-- the NIS, member and event links. Those columns are written by the store
-- from the same record in the same statement group, so they cannot drift.
--
-- Foreign keys are checked at commit (DEFERRABLE INITIALLY DEFERRED): a
-- bulk load sends each table's new rows with one COPY, in whatever order,
-- and the store checks every reference itself before it writes.

-- The person count, kept as registry/bolt's meta "persons" is: count(*)
-- reads every row, and the hub shows the count at start and on its status.
CREATE TABLE registry_counts (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    persons bigint NOT NULL CHECK (persons >= 0)
);
INSERT INTO registry_counts (persons) VALUES (0);

CREATE TABLE families (
    id bigint PRIMARY KEY CHECK (id > 0),
    kind smallint NOT NULL CHECK (kind IN (1, 2)), -- famiglia, convivenza (DPR 223/1989 art. 4-5)
    name text NOT NULL DEFAULT ''
);

CREATE TABLE persons (
    id bigint PRIMARY KEY CHECK (id > 0),
    cf text NOT NULL UNIQUE CHECK (length(cf) = 16), -- as stored: upper case
    cf_base text NOT NULL,                           -- codicefiscale.Base(cf): omocodia letters back to digits
    -- registry.NameKey; bytewise order ("C") so a prefix is one index
    -- range and the order is registry/bolt's.
    name_key text COLLATE "C" NOT NULL,
    family_id bigint REFERENCES families (id) DEFERRABLE INITIALLY DEFERRED,
    record jsonb NOT NULL
);
CREATE INDEX persons_cf_base ON persons (cf_base);
CREATE INDEX persons_name_key ON persons (name_key, id);

-- The NIS of every CIE a person holds (registry.Document.NIS): the chip's
-- number a kiosk reads without a PIN.
CREATE TABLE person_nis (
    nis text PRIMARY KEY,
    person_id bigint NOT NULL REFERENCES persons (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX person_nis_person ON person_nis (person_id);

-- Current and former members (Person.Family and Person.Memberships).
CREATE TABLE family_members (
    family_id bigint NOT NULL REFERENCES families (id) DEFERRABLE INITIALLY DEFERRED,
    person_id bigint NOT NULL REFERENCES persons (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (family_id, person_id)
);
CREATE INDEX family_members_person ON family_members (person_id);

CREATE TABLE events (
    id bigint PRIMARY KEY CHECK (id > 0),
    record jsonb NOT NULL
);

-- The persons an event involves (Event.Persons; Related are not indexed,
-- as in registry/bolt).
CREATE TABLE person_events (
    person_id bigint NOT NULL REFERENCES persons (id) DEFERRABLE INITIALLY DEFERRED,
    event_id bigint NOT NULL REFERENCES events (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (person_id, event_id)
);
CREATE INDEX person_events_event ON person_events (event_id);

-- Places (comuni and foreign states) by Belfiore code and first day valid,
-- YYYYMMDD or 00000000 when unknown: a renamed comune has several periods.
CREATE TABLE places (
    code text NOT NULL,
    valid_from text NOT NULL,
    record jsonb NOT NULL,
    PRIMARY KEY (code, valid_from)
);
