-- A participant's pause: while holding, what is passed on to them is held until they let it
-- through again (0 or 1).
ALTER TABLE members ADD COLUMN holding INTEGER NOT NULL DEFAULT 0;
