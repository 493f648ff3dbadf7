-- Issue 6: users and tokens, the audit log, retired grids, and append-only
-- history. "Nothing is overwritten silently" (DESIGN §3) is enforced here,
-- in the database, so that even buggy code cannot rewrite history.

-- Users: a token is shown once and stored only as its SHA-256 hex digest.
-- Scope: a street user writes its street; an inspector updates complaints
-- in its grids (given as codes, or as a whole street).
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(btrim(name)) > 0),
    role          text NOT NULL CHECK (role IN ('admin', 'planner', 'street', 'inspector')),
    street_code   text,
    grid_codes    text[] NOT NULL DEFAULT '{}',
    token_sha256  text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    disabled_at   timestamptz,
    CHECK (role <> 'street' OR street_code IS NOT NULL),
    CHECK (role <> 'inspector' OR street_code IS NOT NULL OR cardinality(grid_codes) > 0)
);

-- Every write: who, when, what, and the state before and after.
CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,          -- grid.assign, grids.generate, complaint.create, complaint.transition, user.add
    target   text NOT NULL,          -- grid:CODE, street:CODE, complaint:ID, user:NAME
    before   jsonb,
    after    jsonb,
    detail   jsonb
);
CREATE INDEX audit_log_target_idx ON audit_log (target, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Grids removed by a regeneration keep their last row here, so that their
-- codes, shapes and assignment history stay readable.
CREATE TABLE grid_archive (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL,
    street_code text NOT NULL,
    last_row    jsonb NOT NULL,      -- the grids row as it was, without geom
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    successors  text[] NOT NULL DEFAULT '{}',
    reason      text NOT NULL,
    retired_by  text NOT NULL,
    retired_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grid_archive_code_idx ON grid_archive (code, retired_at);
CREATE INDEX grid_archive_geom_idx ON grid_archive USING gist (geom);

-- The foundation's foreign key from grid_assignments to grids would forbid
-- retiring a grid that has history (and its ON UPDATE CASCADE would rewrite
-- history). It becomes an insert-time check against grids, so the history
-- of a retired code stays where it was.
ALTER TABLE grid_assignments DROP CONSTRAINT IF EXISTS grid_assignments_grid_code_fkey;

CREATE FUNCTION hm_grid_assignment_grid_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM grids WHERE code = NEW.grid_code) THEN
        RAISE EXCEPTION 'grid_assignments: no grid with code %', NEW.grid_code
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER grid_assignments_grid_exists BEFORE INSERT ON grid_assignments
    FOR EACH ROW EXECUTE FUNCTION hm_grid_assignment_grid_exists();

-- History tables take INSERT only. TRUNCATE (a whole demo reload by an
-- administrator) stays possible; UPDATE and DELETE of single rows do not.
CREATE FUNCTION hm_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only history: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER grid_assignments_append_only BEFORE UPDATE OR DELETE ON grid_assignments
    FOR EACH ROW EXECUTE FUNCTION hm_append_only();
CREATE TRIGGER complaint_events_append_only BEFORE UPDATE OR DELETE ON complaint_events
    FOR EACH ROW EXECUTE FUNCTION hm_append_only();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION hm_append_only();
CREATE TRIGGER grid_archive_append_only BEFORE UPDATE OR DELETE ON grid_archive
    FOR EACH ROW EXECUTE FUNCTION hm_append_only();
