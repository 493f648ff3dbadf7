-- Issue 15: 明察暗访. Rounds of inspections, their findings (rectification
-- cases routed like complaints) and each finding's append-only history.
-- The foundation's `inspections` table was never used by any code: replaced.

DROP TABLE IF EXISTS inspections;

CREATE TABLE inspection_rounds (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('周检查', '月度暗访', '专项检查', '复审模拟')),
    starts      timestamptz NOT NULL,
    ends        timestamptz NOT NULL,
    streets     text[] NOT NULL,              -- the street codes the round covers
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends > starts),
    CHECK (cardinality(streets) > 0)
);

-- A finding: one checklist item seen at a point. The item's wording,
-- deduction and deadline are copied at write time (a city's checklist may
-- change later; the round's scores may not). `responsible_unit` is the unit
-- holding the grid when the finding was observed (grid_assignments): lost
-- points stay with it when the grid changes hands later.
CREATE TABLE inspection_findings (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    round_id          bigint NOT NULL REFERENCES inspection_rounds (id),
    client_id         text NOT NULL,          -- chosen by the phone: a retry finds the same finding
    inspector         text NOT NULL,          -- the user who recorded it
    item_code         text NOT NULL,
    place_type        text NOT NULL,
    item_text         text NOT NULL,
    deduction         numeric NOT NULL CHECK (deduction >= 0),
    due_days          integer NOT NULL CHECK (due_days > 0),  -- also the time a failed re-check gives again
    description       text,                   -- the inspector's note at the place
    observed_at       timestamptz NOT NULL,
    status            text NOT NULL DEFAULT '待整改'
                      CHECK (status IN ('待整改', '已整改', '复查通过', '复查未通过')),
    due_at            timestamptz NOT NULL,
    rectified_by      text,                   -- who last marked it 已整改 (may not re-check it)
    district_code     text,
    street_code       text,
    community_code    text,
    grid_code         text,
    responsible_unit  text,
    source            text NOT NULL DEFAULT 'api',
    source_id         text,
    attributes        jsonb NOT NULL DEFAULT '{}',
    geom              geometry(Point, 4326) NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (inspector, client_id),
    UNIQUE (source, source_id)
);
CREATE INDEX inspection_findings_round_idx ON inspection_findings (round_id, street_code);
CREATE INDEX inspection_findings_street_idx ON inspection_findings (street_code, status);
CREATE INDEX inspection_findings_grid_idx ON inspection_findings (grid_code, status);
CREATE INDEX inspection_findings_geom_idx ON inspection_findings USING gist (geom);

-- Each status change, numbered per finding under the finding's row lock
-- (as complaint_events, migration 0620); `due_at` is the deadline the step set.
CREATE TABLE inspection_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finding_id   bigint NOT NULL REFERENCES inspection_findings (id) ON DELETE CASCADE,
    seq          integer NOT NULL DEFAULT 1,
    from_status  text,
    to_status    text NOT NULL,
    note         text,
    due_at       timestamptz,
    actor        text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX inspection_events_step_idx ON inspection_events (finding_id, seq);

CREATE FUNCTION hm_inspection_event_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM inspection_findings WHERE id = NEW.finding_id FOR NO KEY UPDATE;
    SELECT coalesce(max(seq), 0) + 1 INTO NEW.seq FROM inspection_events WHERE finding_id = NEW.finding_id;
    RETURN NEW;
END $$;
CREATE TRIGGER inspection_events_step BEFORE INSERT ON inspection_events
    FOR EACH ROW WHEN (NEW.from_status IS NOT NULL) EXECUTE FUNCTION hm_inspection_event_step();
CREATE TRIGGER inspection_events_append_only BEFORE UPDATE OR DELETE ON inspection_events
    FOR EACH ROW EXECUTE FUNCTION hm_append_only();

-- Photos of a finding: "before" by the inspector, "after" by the rectifying
-- street. The file is stored once by the SHA-256 of its cleaned bytes (EXIF
-- removed) under the photo directory; time and position read from EXIF first.
CREATE TABLE inspection_photos (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finding_id    bigint NOT NULL REFERENCES inspection_findings (id) ON DELETE CASCADE,
    stage         text NOT NULL CHECK (stage IN ('before', 'after')),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    media_type    text NOT NULL,
    bytes         integer NOT NULL,
    width         integer NOT NULL,
    height        integer NOT NULL,
    taken_at      timestamptz,               -- EXIF DateTimeOriginal, in the city's zone
    taken_lon     double precision,          -- EXIF GPS, WGS84
    taken_lat     double precision,
    uploaded_by   text NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (finding_id, stage, sha256)
);
CREATE INDEX inspection_photos_finding_idx ON inspection_photos (finding_id, stage);
