-- 0011: the queue of notifications to certificates' subjects
-- (internal/notify), notifybolt's bucket as a table.
--
-- The item is stored whole as JSONB (notify.Item's JSON form). settled is
-- set by Settle, once every delivery is done: the sender's scans (Due,
-- Next) skip those rows, which are most of them after a while.
-- enqueued_ns orders the lists.
CREATE TABLE notices (
    id text PRIMARY KEY,
    enqueued_ns bigint NOT NULL,
    settled boolean NOT NULL DEFAULT false,
    record jsonb NOT NULL
);
CREATE INDEX notices_open ON notices (enqueued_ns) WHERE NOT settled;
CREATE INDEX notices_enqueued ON notices (enqueued_ns);
