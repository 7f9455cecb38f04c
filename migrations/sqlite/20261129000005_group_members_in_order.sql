-- The access review (RULES §10, Model.access) reads the first members of a group
-- after a username: this index holds them in that order.
CREATE INDEX user_groups_members ON user_groups (group_name, username);
