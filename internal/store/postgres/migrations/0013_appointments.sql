-- 0013: appointments (internal/appointment), apptbolt's buckets as tables.
--
-- Offices, closures and bookings are stored whole as JSONB in their
-- domain JSON form; beside a booking only what is looked up or enforced.
--
-- No slot is ever double-booked, whatever number of hubs book at once:
-- a seat (office, start, counter) is held by at most one live booking,
-- and the partial unique index appointments_seat is what says so. Book
-- inserts with ON CONFLICT on it DO NOTHING, so a transaction that lost
-- the race for one counter waits for the winner's commit and goes on to
-- the next counter instead of failing.
CREATE TABLE appointment_offices (
    id text PRIMARY KEY,
    record jsonb NOT NULL
);

CREATE TABLE appointment_closures (
    id text PRIMARY KEY,
    from_day text NOT NULL, -- YYYY-MM-DD, the list's order
    record jsonb NOT NULL
);

CREATE TABLE appointments (
    ref text PRIMARY KEY,
    office_id text NOT NULL,
    start_ns bigint NOT NULL,
    counter integer NOT NULL,
    service text NOT NULL,
    cf text NOT NULL,
    state text NOT NULL CHECK (state IN ('booked', 'checked_in', 'cancelled')),
    record jsonb NOT NULL
);
CREATE UNIQUE INDEX appointments_seat ON appointments (office_id, start_ns, counter) WHERE state <> 'cancelled';
CREATE INDEX appointments_person ON appointments (cf, start_ns);
CREATE INDEX appointments_due ON appointments (start_ns) WHERE state = 'booked';
