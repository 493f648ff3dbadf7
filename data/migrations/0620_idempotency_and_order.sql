-- Issue 14: histories in commit order, and idempotency keys for writes.

-- 1. A step number per complaint and per grid, taken at write time after the
-- complaint's (grid's) row lock is held. Writers of one entity are serialised
-- by that lock, so the steps follow the order the changes happened and were
-- committed in; the transaction start time (`at`, `changed_at`) does not, when
-- two changes overlap. Histories are read in step order; the unique index makes
-- a second change at the same step impossible.

ALTER TABLE complaint_events ADD COLUMN seq integer NOT NULL DEFAULT 1;
ALTER TABLE grid_assignments ADD COLUMN seq integer NOT NULL DEFAULT 1;

-- Existing rows: numbered in insertion order (id), the order they were written in.
ALTER TABLE complaint_events DISABLE TRIGGER complaint_events_append_only;
UPDATE complaint_events e SET seq = o.n
FROM (SELECT id, row_number() OVER (PARTITION BY complaint_id ORDER BY id) AS n FROM complaint_events) o
WHERE o.id = e.id AND o.n > 1;
ALTER TABLE complaint_events ENABLE TRIGGER complaint_events_append_only;

ALTER TABLE grid_assignments DISABLE TRIGGER grid_assignments_append_only;
UPDATE grid_assignments a SET seq = o.n
FROM (SELECT id, row_number() OVER (PARTITION BY grid_code ORDER BY id) AS n FROM grid_assignments) o
WHERE o.id = a.id AND o.n > 1;
ALTER TABLE grid_assignments ENABLE TRIGGER grid_assignments_append_only;

DROP INDEX complaint_events_complaint_idx;
CREATE UNIQUE INDEX complaint_events_step_idx ON complaint_events (complaint_id, seq);
DROP INDEX grid_assignments_grid_idx;
CREATE UNIQUE INDEX grid_assignments_step_idx ON grid_assignments (grid_code, seq);

-- The step of a status change: lock the complaint (a no-op when the writer
-- holds it already), then one past its last step. Each statement of the
-- function reads a fresh snapshot, so it sees the step a writer that held the
-- lock before has committed. An event without a from-status is a complaint's
-- first (filing, import, demo): step 1 by default, without the trigger, so
-- bulk loads pay nothing; the unique index refuses a second first event.
CREATE FUNCTION hm_complaint_event_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM complaints WHERE id = NEW.complaint_id FOR NO KEY UPDATE;
    SELECT coalesce(max(seq), 0) + 1 INTO NEW.seq FROM complaint_events WHERE complaint_id = NEW.complaint_id;
    RETURN NEW;
END $$;
CREATE TRIGGER complaint_events_step BEFORE INSERT ON complaint_events
    FOR EACH ROW WHEN (NEW.from_status IS NOT NULL) EXECUTE FUNCTION hm_complaint_event_step();

-- A grid's assignments: always numbered (a regenerated grid may reuse a
-- retired code, whose history goes on). Runs after grid_assignments_grid_exists
-- (triggers fire in name order), so the grid row is there to lock.
CREATE FUNCTION hm_grid_assignment_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM grids WHERE code = NEW.grid_code FOR NO KEY UPDATE;
    SELECT coalesce(max(seq), 0) + 1 INTO NEW.seq FROM grid_assignments WHERE grid_code = NEW.grid_code;
    RETURN NEW;
END $$;
CREATE TRIGGER grid_assignments_step BEFORE INSERT ON grid_assignments
    FOR EACH ROW EXECUTE FUNCTION hm_grid_assignment_step();

-- 2. Idempotency keys (draft-ietf-httpapi-idempotency-key-header): the first
-- answer to a write, kept with the caller's key in the same transaction as the
-- write itself, so a key never exists without its write nor a write without
-- its key. Scoped to the caller and the route (method and path).
CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    route        text NOT NULL,            -- "POST /api/complaints", "PATCH /api/complaints/42"
    key          text NOT NULL,
    fingerprint  text NOT NULL,            -- SHA-256 of the request body, canonical JSON
    status       integer NOT NULL,
    body         jsonb NOT NULL,
    location     text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, route, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
