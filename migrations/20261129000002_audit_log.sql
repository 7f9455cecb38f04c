-- The audit log (RULES §9): one event per change, written in the change's own
-- transaction. Ids come from audit_last_id, whose row the writing transaction
-- holds from taking its id to its commit, so ids increase in commit order (a
-- PostgreSQL sequence would not: transactions commit out of order).
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

CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, id);

CREATE TABLE audit_last_id (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL
);

INSERT INTO audit_last_id (id, last) VALUES (1, 0);
