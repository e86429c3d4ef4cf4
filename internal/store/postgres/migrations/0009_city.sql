-- 0009: the city's settings (internal/city), citybolt's one key as one
-- row, shared by every hub on the database: a setting staff change on one
-- hub is read by all from their next transaction.
--
-- The row is always there (record NULL until staff set something), so a
-- write transaction can lock it (SELECT … FOR UPDATE) before checking a
-- change against the settings: a new fee cap and a new agreement, made on
-- two hubs at once, are then checked one after the other.
CREATE TABLE city_settings (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    record jsonb
);
INSERT INTO city_settings (record) VALUES (NULL);
