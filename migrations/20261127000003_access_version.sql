-- A counter that every transaction changing users' groups or permissions bumps. A
-- process may keep users' groups in memory while the counter holds, and reads one
-- small row per request instead of the groups.
CREATE TABLE access_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);

INSERT INTO access_version (id, version) VALUES (1, 0);
