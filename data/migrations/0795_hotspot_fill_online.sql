-- Kept hot-spot grids are filled without holding complaint writers off (issue 18).
--
-- Migration 0750 filled a new grid under a SHARE lock on complaints: every complaint write waited
-- for the whole fill (seconds at city scale, 14–16 s under load). Now a grid is first announced as
-- `filling` (committed at once, under a SHARE lock held for milliseconds) and from then on the
-- triggers keep its counts for every write as for a kept grid; geo/hotspot_counts.py then adds the
-- counts of the complaints as they were just before the announcement (a snapshot taken while the
-- lock was held) and marks it kept. Every complaint is thus counted once: by the fill if its write
-- committed before the snapshot, by the triggers if it came after. Readers use only kept grids.
--
-- While a grid fills, a write may take a complaint out of a cell the fill has not added yet: its
-- count goes below zero until the fill adds it. So removals (and the old side of an update) are
-- upserts of negative counts, as additions are upserts of positive ones (sums in any order agree),
-- and the counts may be negative while their grid fills; once kept they equal the complaints.

ALTER TABLE hotspot_grids ADD COLUMN filling boolean NOT NULL DEFAULT false;
ALTER TABLE hotspot_counts DROP CONSTRAINT hotspot_counts_n_check;

CREATE OR REPLACE FUNCTION hotspot_counts_remove() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotspot_grids) AND NOT hotspot_counts_forget((SELECT count(*) FROM old_rows)) THEN
        INSERT INTO hotspot_counts AS c (grid, month, category, q, r, n)
        SELECT k.grid, k.month, k.category, k.q, k.r, -count(*)
        FROM old_rows o, hm_hotspot_keys(o.reported_at, o.category, o.metric_srid, o.metric_x, o.metric_y, o.geom) k
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (grid, month, category, q, r) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

-- An update moves the counts of the rows whose place, time or category changed: one upsert of
-- their old keys (−1 each) and new keys (+1 each), summed per key (a status change moves nothing).
CREATE OR REPLACE FUNCTION hotspot_counts_move() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotspot_grids) THEN
        INSERT INTO hotspot_counts AS c (grid, month, category, q, r, n)
        SELECT d.grid, d.month, d.category, d.q, d.r, sum(d.n)
        FROM (SELECT k.grid, k.month, k.category, k.q, k.r, -1 AS n
              FROM old_rows o JOIN new_rows w ON w.id = o.id,
                   hm_hotspot_keys(o.reported_at, o.category, o.metric_srid, o.metric_x, o.metric_y, o.geom) k
              WHERE (o.reported_at, o.category, o.metric_srid, o.metric_x, o.metric_y)
                    IS DISTINCT FROM (w.reported_at, w.category, w.metric_srid, w.metric_x, w.metric_y)
              UNION ALL
              SELECT k.grid, k.month, k.category, k.q, k.r, 1
              FROM old_rows o JOIN new_rows w ON w.id = o.id,
                   hm_hotspot_keys(w.reported_at, w.category, w.metric_srid, w.metric_x, w.metric_y, w.geom) k
              WHERE (o.reported_at, o.category, o.metric_srid, o.metric_x, o.metric_y)
                    IS DISTINCT FROM (w.reported_at, w.category, w.metric_srid, w.metric_x, w.metric_y)) d
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(d.n) <> 0
        ON CONFLICT (grid, month, category, q, r) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

-- TRUNCATE empties the kept counts; a grid still filling is dropped (its fill read rows now gone,
-- and its registration then gives up: the next map registers it again).
CREATE OR REPLACE FUNCTION hotspot_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM hotspot_grids WHERE filling;
    DELETE FROM hotspot_counts;
    RETURN NULL;
END $$;
