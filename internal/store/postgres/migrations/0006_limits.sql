-- 0006: the request limits' daily counts and alerts (internal/limits;
-- limitsbolt keeps the same as buckets). Every hub on the database counts
-- against the same rows, so a daily cap holds for the city, not per hub.

CREATE TABLE limit_counts (
    day date NOT NULL, -- Europe/Rome
    key text NOT NULL, -- limits.Cap.Key: "device:…", "shop:…", "clerk:…"
    count integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (day, key)
);

-- Alert ids ("al-00000001") come from a sequence: never reused, in the
-- order alerts were raised.
CREATE SEQUENCE limit_alert_ids;

CREATE TABLE limit_alerts (
    id text COLLATE "C" PRIMARY KEY,
    device text NOT NULL,
    kind text NOT NULL,
    open boolean NOT NULL, -- not yet reviewed by staff
    record jsonb NOT NULL
);
-- One open alert per device and kind; a later breach updates it.
CREATE UNIQUE INDEX limit_alerts_open ON limit_alerts (device, kind) WHERE open;
