-- The audit log (RULES §9): one event per change, written in the change's own
-- transaction, last. Ids increase in commit order: on PostgreSQL they come from
-- audit_last_id, whose row the writing transaction holds from taking its id to its
-- commit (a sequence would not do: transactions commit out of order); SQLite's
-- writers take turns, so the next id after the largest is enough there.
CREATE TABLE audit_events (
    id          BIGINT PRIMARY KEY,
    -- Unix milliseconds, from the database's clock.
    at          BIGINT NOT NULL,
    actor       TEXT,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    -- The names of the fields that changed, sorted, comma-separated.
    fields      TEXT NOT NULL,
    request_id  TEXT
);

-- For `since` and the retention's deletions, and for a target's history. Reading by
-- actor walks the ids newest first: the log is written on every change and read
-- rarely, so it keeps few indexes.
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, id);

CREATE TABLE audit_last_id (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL
);

INSERT INTO audit_last_id (id, last) VALUES (1, 0);
