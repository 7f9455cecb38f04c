-- Failed-login bookkeeping (RULES §6), in the database so that every process
-- sharing it enforces the same limits.

-- Consecutive failures per username (existing or not), and until when (Unix
-- milliseconds) its logins are refused.
CREATE TABLE login_failures_by_user (
    username     TEXT PRIMARY KEY,
    consecutive  BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

-- One row per failed login from a client address (Unix milliseconds), pruned as
-- they leave the window.
CREATE TABLE login_failures_by_address (
    address   TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);

CREATE INDEX login_failures_by_address_at ON login_failures_by_address (address, failed_at);
