-- searchUsers (RULES §10) on SQLite: an FTS5 trigram index prefilters `query`; the
-- exact match is applied again on the rows it finds. It holds each user's username,
-- email and full name joined by a character no stored text holds (RULES §5).
--
-- FTS5 rows are found by rowid, and a users row's own rowid may change on VACUUM
-- (its key is text): user_search_ids gives each user a stable one.
CREATE TABLE user_search_ids (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE user_search USING fts5(text, tokenize = 'trigram case_sensitive 0');

INSERT INTO user_search_ids (username) SELECT username FROM users;

INSERT INTO user_search (rowid, text)
SELECT s.id, u.username || char(31) || COALESCE(u.email, '') || char(31) || COALESCE(u.full_name, '')
FROM user_search_ids s JOIN users u ON u.username = s.username;

CREATE TRIGGER user_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_search_ids (username) VALUES (new.username);
    INSERT INTO user_search (rowid, text)
    SELECT id, new.username || char(31) || COALESCE(new.email, '') || char(31) || COALESCE(new.full_name, '')
    FROM user_search_ids WHERE username = new.username;
END;

CREATE TRIGGER user_search_update AFTER UPDATE OF username, email, full_name ON users BEGIN
    UPDATE user_search_ids SET username = new.username WHERE username = old.username;
    UPDATE user_search
    SET text = new.username || char(31) || COALESCE(new.email, '') || char(31) || COALESCE(new.full_name, '')
    WHERE rowid = (SELECT id FROM user_search_ids WHERE username = new.username);
END;

CREATE TRIGGER user_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_search WHERE rowid = (SELECT id FROM user_search_ids WHERE username = old.username);
    DELETE FROM user_search_ids WHERE username = old.username;
END;
