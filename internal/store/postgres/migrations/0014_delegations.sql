-- 0014: the citizens' delegations (internal/delegation, issue 17) and the
-- acts done under them.
--
-- The delegation is stored whole as JSONB (delegation.Delegation's JSON
-- form); the columns beside it are what the look-ups and the ordering
-- need. A use locks its delegation's row (SELECT … FOR UPDATE) and a
-- revocation updates it, so hubs sharing the database order the two: a
-- use never commits after a revocation it did not see.
CREATE TABLE delegations (
    id text PRIMARY KEY,
    delegator_cf text NOT NULL,
    delegate_cf text NOT NULL,
    created_ns bigint NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX delegations_delegator ON delegations (delegator_cf, created_ns);
CREATE INDEX delegations_delegate ON delegations (delegate_cf, created_ns);

CREATE TABLE delegation_uses (
    delegation_id text NOT NULL REFERENCES delegations (id),
    seq bigserial,
    record jsonb NOT NULL,
    PRIMARY KEY (delegation_id, seq)
);
