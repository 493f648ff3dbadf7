-- 限期整改 / 延期申请与审批: a complaint's deadline (complaints.due_at) set or extended after filing.
-- A handler asks for more time (request), the campaign office (admin) approves or rejects it, or sets
-- a deadline itself (set). Every row is kept: requests, decisions and direct changes are append-only
-- history, like complaint_events (layers/workflow/deadlines.py writes and reads them).
CREATE TABLE complaint_deadlines (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('request', 'approve', 'reject', 'set')),
    -- approve / reject: the request decided.
    request_id    bigint REFERENCES complaint_deadlines (id) ON DELETE CASCADE,
    due_before    timestamptz,           -- complaints.due_at when the row was written (NULL: none)
    due_after     timestamptz,           -- request: the time asked for; approve, set: the new due_at
    reason        text,                  -- staff text: why (request, set) or the decision's note
    actor         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind IN ('approve', 'reject')) = (request_id IS NOT NULL)),
    CHECK ((kind = 'reject') = (due_after IS NULL)),
    CHECK (kind = 'approve' OR length(btrim(coalesce(reason, ''))) > 0)
);
CREATE INDEX complaint_deadlines_complaint_idx ON complaint_deadlines (complaint_id, id);
-- The requests (few beside a million complaints): the pending-extension filter starts from them.
CREATE INDEX complaint_deadlines_requests_idx ON complaint_deadlines (complaint_id) WHERE kind = 'request';
-- A request is decided once, whatever the code above does.
CREATE UNIQUE INDEX complaint_deadlines_decided_idx ON complaint_deadlines (request_id) WHERE request_id IS NOT NULL;

CREATE TRIGGER complaint_deadlines_append_only BEFORE UPDATE OR DELETE ON complaint_deadlines
    FOR EACH ROW EXECUTE FUNCTION hm_append_only();

-- Once the campaign office has decided a deadline (an approval, or a deadline set), complaints.due_at is the
-- latest decided one: a later import of the same hotline export (an upsert carrying the original deadline) or
-- any other write cannot undo the decision. The decision itself is written first, then due_at moved to it.
CREATE FUNCTION hm_complaint_decided_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    decided timestamptz;
BEGIN
    SELECT d.due_after INTO decided FROM complaint_deadlines d
    WHERE d.complaint_id = OLD.id AND d.kind IN ('approve', 'set') ORDER BY d.id DESC LIMIT 1;
    IF FOUND THEN
        NEW.due_at := decided;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER complaints_decided_deadline BEFORE UPDATE OF due_at ON complaints
    FOR EACH ROW WHEN (NEW.due_at IS DISTINCT FROM OLD.due_at) EXECUTE FUNCTION hm_complaint_decided_deadline();

-- As migration 0410 for complaint_events: removing a whole complaint takes its deadline history with it
-- (the cascade); a row of a complaint that still exists stays untouchable.
CREATE OR REPLACE FUNCTION hm_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Nested: PL/pgSQL does not short-circuit, and only these two tables have complaint_id.
    IF TG_TABLE_NAME IN ('complaint_events', 'complaint_deadlines') AND TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM complaints WHERE id = OLD.complaint_id) THEN
            RETURN OLD;  -- the cascade from the complaint's own removal
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only history: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
