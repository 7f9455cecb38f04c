-- Login throttling under concurrency (RULES §6): an attempt is counted before its
-- password is checked, as one row per subject ('user:<name>', 'address:<ip>') here,
-- until it settles, or until its lease runs out (its process died meanwhile).
CREATE TABLE login_checks (
    id          TEXT NOT NULL,
    subject     TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    PRIMARY KEY (id, subject)
);

CREATE INDEX login_checks_subject ON login_checks (subject);

-- A username's count is forgotten a window after its last failure (Unix ms), and
-- the rows whose window and lock have passed are deleted.
ALTER TABLE login_failures_by_user ADD COLUMN last_failure_at BIGINT NOT NULL DEFAULT 0;

CREATE INDEX login_failures_by_user_last ON login_failures_by_user (last_failure_at);

CREATE INDEX login_failures_by_address_failed_at ON login_failures_by_address (failed_at);
