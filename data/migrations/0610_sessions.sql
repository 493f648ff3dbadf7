-- Issue 14: page logins. /login trades a user's token for a session; the
-- browser keeps only the session id (an HttpOnly cookie), the database only
-- its SHA-256 digest, so neither a stolen cookie jar reveals the token nor a
-- stolen database the sessions. The CSRF token is sent to the page (not a
-- secret from the browser, only from other sites) and checked on writes.
CREATE TABLE sessions (
    id_sha256   text PRIMARY KEY CHECK (id_sha256 ~ '^[0-9a-f]{64}$'),
    user_id     bigint NOT NULL REFERENCES users (id),
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
