-- Users, groups, their permissions and memberships. Portable SQL: the same
-- file runs on SQLite and PostgreSQL. Table names are plural because `user`
-- and `group` are reserved words.

CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    email         TEXT,
    full_name     TEXT,
    -- 0 or 1: the one integer both databases decode alike through sqlx's Any driver.
    disabled      BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    role          TEXT NOT NULL CHECK (role IN ('ADMIN', 'REGULAR')),
    -- Random value carried in every token; replaced on each password change,
    -- and new for a re-created user, so older tokens stop working.
    token_version TEXT NOT NULL
);

CREATE TABLE groups (
    name       TEXT PRIMARY KEY,
    -- Set for groups derived from a resource (read-user-<u>, edit-model-<id>):
    -- the resource they belong to, so that removing the resource removes
    -- exactly its own groups, whatever their names.
    owner_kind TEXT CHECK (owner_kind IN ('USER', 'MODEL')),
    owner_id   TEXT
);

CREATE INDEX groups_owner ON groups (owner_kind, owner_id);

CREATE TABLE group_permissions (
    group_name    TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    method        TEXT NOT NULL
);

CREATE INDEX group_permissions_group ON group_permissions (group_name);

CREATE TABLE user_groups (
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    PRIMARY KEY (username, group_name)
);

CREATE INDEX user_groups_group ON user_groups (group_name);

CREATE TABLE models (
    id TEXT PRIMARY KEY
);

-- MLTE's 15 default groups: read-, create- and edit- for each resource type.
INSERT INTO groups (name) VALUES
    ('read-model'), ('create-model'), ('edit-model'),
    ('read-user'), ('create-user'), ('edit-user'),
    ('read-group'), ('create-group'), ('edit-group'),
    ('read-catalog'), ('create-catalog'), ('edit-catalog'),
    ('read-custom_list'), ('create-custom_list'), ('edit-custom_list');

INSERT INTO group_permissions (group_name, resource_type, resource_id, method) VALUES
    ('read-model', 'MODEL', NULL, 'GET'),
    ('create-model', 'MODEL', NULL, 'POST'),
    ('edit-model', 'MODEL', NULL, 'PUT'),
    ('edit-model', 'MODEL', NULL, 'DELETE'),
    ('read-user', 'USER', NULL, 'GET'),
    ('create-user', 'USER', NULL, 'POST'),
    ('edit-user', 'USER', NULL, 'PUT'),
    ('edit-user', 'USER', NULL, 'DELETE'),
    ('read-group', 'GROUP', NULL, 'GET'),
    ('create-group', 'GROUP', NULL, 'POST'),
    ('edit-group', 'GROUP', NULL, 'PUT'),
    ('edit-group', 'GROUP', NULL, 'DELETE'),
    ('read-catalog', 'CATALOG', NULL, 'GET'),
    ('create-catalog', 'CATALOG', NULL, 'POST'),
    ('edit-catalog', 'CATALOG', NULL, 'PUT'),
    ('edit-catalog', 'CATALOG', NULL, 'DELETE'),
    ('read-custom_list', 'CUSTOM_LIST', NULL, 'GET'),
    ('create-custom_list', 'CUSTOM_LIST', NULL, 'POST'),
    ('edit-custom_list', 'CUSTOM_LIST', NULL, 'PUT'),
    ('edit-custom_list', 'CUSTOM_LIST', NULL, 'DELETE');
