-- Removing a whole complaint (a test or spam report, by an administrator)
-- takes its status history with it, and is itself recorded in the audit log
-- with the removed row. History rows of a complaint that still exists stay
-- untouchable.
CREATE OR REPLACE FUNCTION hm_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Nested: PL/pgSQL does not short-circuit, and only complaint_events has complaint_id.
    IF TG_TABLE_NAME = 'complaint_events' AND TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM complaints WHERE id = OLD.complaint_id) THEN
            RETURN OLD;  -- the cascade from the complaint's own removal
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only history: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION hm_audit_complaint_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_log (actor, action, target, before)
    VALUES (coalesce(nullif(current_setting('hygiene_map.actor', true), ''), session_user),
            'complaint.remove', 'complaint:' || OLD.id, to_jsonb(OLD) - 'geom'
                || jsonb_build_object('geom', ST_AsText(OLD.geom)));
    RETURN OLD;
END $$;
CREATE TRIGGER complaints_removal_audited AFTER DELETE ON complaints
    FOR EACH ROW EXECUTE FUNCTION hm_audit_complaint_removal();
