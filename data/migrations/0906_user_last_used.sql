-- When each account was last used (session 22's walkthrough: `users list` could not tell a departed inspector's
-- still-valid token from one in daily use). Set at every page login (POST /login) and, for a bearer token or a
-- login's cookie, at most once per 15 minutes per account (layers.workflow.last_use): a read of every map tile
-- does not become a write. NULL: never used since this column exists (accounts made before it count from their
-- creation in `users list --unused-days`).
ALTER TABLE users ADD COLUMN last_used_at timestamptz;
COMMENT ON COLUMN users.last_used_at IS
    'last login or token use, kept to 15 minutes (layers.workflow.last_use.GRAIN); NULL: never used';
