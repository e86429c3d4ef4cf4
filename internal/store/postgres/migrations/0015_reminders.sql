-- 0015: the citizens' choice of channel per kind of reminder
-- (internal/reminder), reminderbolt's bucket as a table.
--
-- One row per citizen and kind, so two hubs recording two kinds at once
-- lose neither. The reminders' keys need no table of their own: a
-- reminder's key is its notification's id in notices (0011), whose
-- primary key refuses it twice.
CREATE TABLE reminder_prefs (
    cf text NOT NULL,
    kind text NOT NULL,
    choice text NOT NULL CHECK (choice IN ('both', 'appio', 'email', 'none')),
    set_by text NOT NULL DEFAULT '',
    updated_ns bigint NOT NULL,
    PRIMARY KEY (cf, kind)
);
