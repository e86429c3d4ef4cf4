-- 0007: the signed API's used nonces (httpsig.NonceStore; noncebolt keeps
-- the same as a bucket). Every hub on the database records and checks here,
-- so a request accepted by one hub is refused as a replay by every other.
CREATE TABLE signature_nonces (
    key_id text NOT NULL,
    nonce text NOT NULL,
    until timestamptz NOT NULL, -- the signature's validity ends; after it the row may go
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX signature_nonces_until ON signature_nonces (until);
