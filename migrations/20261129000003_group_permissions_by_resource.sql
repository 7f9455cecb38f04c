-- The access review (RULES §10) finds the grants naming given models: without this
-- index, every permission of every group is read (four per user at least). On the
-- id alone: with the type first, SQLite would prefer it to the group's index when
-- joining permissions to memberships.
CREATE INDEX group_permissions_resource ON group_permissions (resource_id);
