-- The history of the facility layers that coverage reads (issue 16, the bulletin's coverage section):
-- a row per facility added, removed or moved, written by row triggers, so that the facility set at a
-- past time can be rebuilt (today's set, minus those added since, plus those removed since, moved
-- ones back at their old place). facility_log says since when each table's history is complete:
-- the migration's time, or the last TRUNCATE (a replacing load, e.g. the demo, which restarts the
-- ids): a TRUNCATE empties the table's history, and rows added in the same transaction (at = since)
-- are the state the history starts from, not additions.
CREATE TABLE facility_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  text NOT NULL,
    facility_id bigint NOT NULL,               -- the table's key (id)
    op          text NOT NULL CHECK (op IN ('added', 'removed', 'moved')),
    at          timestamptz NOT NULL DEFAULT now(),
    category    text,                          -- the row's kind column (garbage_stations: 收集点/收集站/转运站)
    name        text,
    address     text,
    street_code text,
    geom        geometry(Geometry, 4326),      -- after (added, moved) or before (removed)
    geom_before geometry(Geometry, 4326)       -- moved: where it was
);
CREATE INDEX facility_changes_at ON facility_changes (table_name, at);

CREATE TABLE facility_log (
    table_name text PRIMARY KEY,
    since      timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION hm_note_facility_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.geom IS NOT DISTINCT FROM OLD.geom THEN
        RETURN NULL;
    END IF;
    r := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    INSERT INTO facility_changes (table_name, facility_id, op, category, name, address, street_code, geom,
                                  geom_before)
    VALUES (TG_TABLE_NAME, (r->>'id')::bigint,
            CASE TG_OP WHEN 'INSERT' THEN 'added' WHEN 'DELETE' THEN 'removed' ELSE 'moved' END,
            r->>'kind', r->>'name', r->>'address', r->>'street_code',
            CASE WHEN TG_OP = 'DELETE' THEN OLD.geom ELSE NEW.geom END,
            CASE WHEN TG_OP = 'UPDATE' THEN OLD.geom END);
    RETURN NULL;
END $$;

CREATE FUNCTION hm_restart_facility_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM facility_changes WHERE table_name = TG_TABLE_NAME;
    INSERT INTO facility_log (table_name) VALUES (TG_TABLE_NAME)
        ON CONFLICT (table_name) DO UPDATE SET since = now();
    RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['toilets', 'garbage_stations', 'markets', 'health_trails']
    LOOP
        INSERT INTO facility_log (table_name) VALUES (t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR DELETE OR UPDATE OF geom ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION hm_note_facility_change()', t || '_history', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION hm_restart_facility_log()', t || '_history_restart', t);
    END LOOP;
END $$;
