-- 0002: the protocol register (internal/protocol), numbered by the
-- database so that several hubs on it number one sequence.
--
-- A number is handed out by a short transaction of its own (Reserve) that
-- moves the year's counter and writes a reservation row, under the row lock
-- of protocol_state, which every numbering step takes: numbers and their
-- registration times are handed out in one order across every hub. The
-- issuing transaction then turns the reservation into an entry (deleting
-- the row as it inserts the entry), so a reservation is either still
-- pending, abandoned (waiting to be given back or annulled), or gone
-- because its number carries an entry (a registration or an annulment).
--
-- Times are Unix nanoseconds, as the hub's clock gives them: the register's
-- date order is checked to the nanosecond (protocol.Stamp), which
-- timestamptz (microseconds) would round.

-- The register's floor (protocol.Stamp): the latest registration time
-- handed out or annulment made, or the end of the last closed day; NULL
-- while the register is empty.
CREATE TABLE protocol_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    latest_ns bigint
);
INSERT INTO protocol_state (latest_ns) VALUES (NULL);

-- Each year's highest number handed out (art. 57 DPR 445/2000: the
-- numbering restarts each year).
CREATE TABLE protocol_years (
    year integer PRIMARY KEY,
    last bigint NOT NULL CHECK (last >= 0)
);

-- Numbers handed out and not yet registered. at_ns is the registration
-- time handed out with the number, which the entry must carry; the codes
-- are the register's when the number was handed out, which an annulment
-- of the number carries.
CREATE TABLE protocol_reservations (
    year integer NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    at_ns bigint NOT NULL,
    ipa text NOT NULL DEFAULT '',
    aoo text NOT NULL DEFAULT '',
    code text NOT NULL DEFAULT '',
    abandoned boolean NOT NULL DEFAULT false,
    reason text NOT NULL DEFAULT '',
    ref text NOT NULL DEFAULT '',
    PRIMARY KEY (year, seq)
);
CREATE INDEX protocol_reservations_pending ON protocol_reservations (at_ns) WHERE NOT abandoned;

-- The entries, whole as JSONB in protocol.Entry's JSON form; beside it the
-- number, the day (YYYYMMDD in Rome, the daily register) and the time.
CREATE TABLE protocol_entries (
    year integer NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    day integer NOT NULL,
    at_ns bigint NOT NULL,
    entry jsonb NOT NULL,
    PRIMARY KEY (year, seq)
);
CREATE INDEX protocol_entries_day ON protocol_entries (day, year, seq);

-- Closed days (protocol.Closing), by day YYYYMMDD.
CREATE TABLE protocol_closed (
    day integer PRIMARY KEY,
    closing jsonb NOT NULL
);
