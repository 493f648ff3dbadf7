-- Complaint counts per hexagon, month and category, kept by triggers (issue 18), so that Gi* hot
-- spots read some 10^5 counts instead of binning 10^6 complaints on every request.
--
-- A hexagon grid is its edge length, metric CRS and the time zone its months are cut in
-- (hotspot_grids); geo.hotspot_counts registers one the first time a size is asked for and fills
-- it from the complaints in the same transaction, holding a SHARE lock on complaints so that no
-- write slips between the fill and the triggers. A reader checks, in the statement that reads the
-- counts, that its grid is still kept (else it bins the complaints): a grid may be dropped at any time. From then on every statement that inserts
-- (COPY too), deletes, moves, re-dates or re-categorises complaints adds or takes away its rows'
-- counts for every kept grid; a status change moves nothing. Emptied cells keep a row with n = 0.
--
-- hm_hex_q / hm_hex_r: the axial coordinates of the pointy-top hexagon (circumradius size) holding
-- a metric point, by cube rounding. The one definition both the triggers and the analysis' own
-- binning use (inlined by the planner: plain SQL expressions).

CREATE FUNCTION hm_hex_q(x double precision, y double precision, size double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN abs(round((sqrt(3.0) / 3.0 * x - y / 3.0) / size) - (sqrt(3.0) / 3.0 * x - y / 3.0) / size)
                      > abs(round((2.0 / 3.0 * y) / size) - (2.0 / 3.0 * y) / size)
                  AND abs(round((sqrt(3.0) / 3.0 * x - y / 3.0) / size) - (sqrt(3.0) / 3.0 * x - y / 3.0) / size)
                      > abs(round(-(sqrt(3.0) / 3.0 * x - y / 3.0) / size - (2.0 / 3.0 * y) / size)
                            + (sqrt(3.0) / 3.0 * x - y / 3.0) / size + (2.0 / 3.0 * y) / size)
                 THEN -round((2.0 / 3.0 * y) / size) - round(-(sqrt(3.0) / 3.0 * x - y / 3.0) / size - (2.0 / 3.0 * y) / size)
                 ELSE round((sqrt(3.0) / 3.0 * x - y / 3.0) / size) END)::integer
$$;

CREATE FUNCTION hm_hex_r(x double precision, y double precision, size double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN abs(round((sqrt(3.0) / 3.0 * x - y / 3.0) / size) - (sqrt(3.0) / 3.0 * x - y / 3.0) / size)
                      > abs(round((2.0 / 3.0 * y) / size) - (2.0 / 3.0 * y) / size)
                  AND abs(round((sqrt(3.0) / 3.0 * x - y / 3.0) / size) - (sqrt(3.0) / 3.0 * x - y / 3.0) / size)
                      > abs(round(-(sqrt(3.0) / 3.0 * x - y / 3.0) / size - (2.0 / 3.0 * y) / size)
                            + (sqrt(3.0) / 3.0 * x - y / 3.0) / size + (2.0 / 3.0 * y) / size)
                 THEN round((2.0 / 3.0 * y) / size)
                 WHEN abs(round((2.0 / 3.0 * y) / size) - (2.0 / 3.0 * y) / size)
                      > abs(round(-(sqrt(3.0) / 3.0 * x - y / 3.0) / size - (2.0 / 3.0 * y) / size)
                            + (sqrt(3.0) / 3.0 * x - y / 3.0) / size + (2.0 / 3.0 * y) / size)
                 THEN -round((sqrt(3.0) / 3.0 * x - y / 3.0) / size)
                      - round(-(sqrt(3.0) / 3.0 * x - y / 3.0) / size - (2.0 / 3.0 * y) / size)
                 ELSE round((2.0 / 3.0 * y) / size) END)::integer
$$;

-- A complaint's metric x (y) in a grid's CRS: the stored pair when it is in that CRS (migration 0300).
CREATE FUNCTION hm_metric_x(metric_srid integer, metric_x double precision, geom geometry, srid integer)
    RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN metric_srid = srid THEN metric_x ELSE ST_X(ST_Transform(geom, srid)) END
$$;
CREATE FUNCTION hm_metric_y(metric_srid integer, metric_y double precision, geom geometry, srid integer)
    RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN metric_srid = srid THEN metric_y ELSE ST_Y(ST_Transform(geom, srid)) END
$$;

CREATE TABLE hotspot_grids (
    id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cell_m  double precision NOT NULL CHECK (cell_m > 0),
    srid    integer NOT NULL,
    tz      text NOT NULL,
    kept_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cell_m, srid, tz)
);

CREATE TABLE hotspot_counts (
    grid     integer NOT NULL REFERENCES hotspot_grids ON DELETE CASCADE,
    month    timestamp NOT NULL,  -- the month's start in the grid's time zone
    category text NOT NULL,
    q        integer NOT NULL,
    r        integer NOT NULL,
    n        integer NOT NULL CHECK (n >= 0),
    PRIMARY KEY (grid, month, category, q, r)
);

-- The keys (grid, month, category, q, r) of one complaint in every kept grid; none for a point so far
-- from the CRS' centre (or not finite) that its hexagon would not fit an integer: no city is there. The triggers below run
-- without JIT: the planner prices ST_Transform high, and compiling would cost a small write far more
-- than it saves.
CREATE FUNCTION hm_hotspot_keys(reported_at timestamptz, category text, metric_srid integer,
                                metric_x double precision, metric_y double precision, geom geometry)
    RETURNS TABLE (grid integer, month timestamp, category text, q integer, r integer)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT g.id, date_trunc('month', reported_at AT TIME ZONE g.tz), category,
           hm_hex_q(xy.x, xy.y, g.cell_m), hm_hex_r(xy.x, xy.y, g.cell_m)
    FROM hotspot_grids g
    CROSS JOIN LATERAL (SELECT hm_metric_x(metric_srid, metric_x, geom, g.srid) AS x,
                               hm_metric_y(metric_srid, metric_y, geom, g.srid) AS y) xy
    WHERE abs(xy.x) < 5e8 * g.cell_m AND abs(xy.y) < 5e8 * g.cell_m  -- as geo.hotspot_counts.binned_sql
$$;

-- A bulk write (an import: more than 5,000 rows in one statement) forgets the kept grids instead:
-- upserting counts costs about as much per row as the import itself, and the next map registers its
-- grid again (one fill, in the background).
CREATE FUNCTION hotspot_counts_forget(rows bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF rows > 5000 THEN
        DELETE FROM hotspot_grids;
        RETURN true;
    END IF;
    RETURN false;
END $$;

CREATE FUNCTION hotspot_counts_add() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotspot_grids) AND NOT hotspot_counts_forget((SELECT count(*) FROM new_rows)) THEN
        INSERT INTO hotspot_counts AS c (grid, month, category, q, r, n)
        SELECT k.grid, k.month, k.category, k.q, k.r, count(*)
        FROM new_rows w, hm_hotspot_keys(w.reported_at, w.category, w.metric_srid, w.metric_x, w.metric_y, w.geom) k
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (grid, month, category, q, r) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION hotspot_counts_remove() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotspot_grids) AND NOT hotspot_counts_forget((SELECT count(*) FROM old_rows)) THEN
        UPDATE hotspot_counts c SET n = c.n - d.n
        FROM (SELECT k.grid, k.month, k.category, k.q, k.r, count(*) AS n
              FROM old_rows o, hm_hotspot_keys(o.reported_at, o.category, o.metric_srid, o.metric_x, o.metric_y, o.geom) k
              GROUP BY 1, 2, 3, 4, 5) d
        WHERE (c.grid, c.month, c.category, c.q, c.r) = (d.grid, d.month, d.category, d.q, d.r);
    END IF;
    RETURN NULL;
END $$;

-- An update moves the counts of the rows whose place, time or category changed: out of their old
-- cell, into their new one (a status change, the common update, moves nothing).
CREATE FUNCTION hotspot_counts_move() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotspot_grids) THEN
        UPDATE hotspot_counts c SET n = c.n - d.n
        FROM (SELECT k.grid, k.month, k.category, k.q, k.r, count(*) AS n
              FROM old_rows o JOIN new_rows w ON w.id = o.id,
                   hm_hotspot_keys(o.reported_at, o.category, o.metric_srid, o.metric_x, o.metric_y, o.geom) k
              WHERE (o.reported_at, o.category, o.metric_srid, o.metric_x, o.metric_y)
                    IS DISTINCT FROM (w.reported_at, w.category, w.metric_srid, w.metric_x, w.metric_y)
              GROUP BY 1, 2, 3, 4, 5) d
        WHERE (c.grid, c.month, c.category, c.q, c.r) = (d.grid, d.month, d.category, d.q, d.r);
        INSERT INTO hotspot_counts AS c (grid, month, category, q, r, n)
        SELECT k.grid, k.month, k.category, k.q, k.r, count(*)
        FROM old_rows o JOIN new_rows w ON w.id = o.id,
             hm_hotspot_keys(w.reported_at, w.category, w.metric_srid, w.metric_x, w.metric_y, w.geom) k
        WHERE (o.reported_at, o.category, o.metric_srid, o.metric_x, o.metric_y)
              IS DISTINCT FROM (w.reported_at, w.category, w.metric_srid, w.metric_x, w.metric_y)
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (grid, month, category, q, r) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION hotspot_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM hotspot_counts;
    RETURN NULL;
END $$;

CREATE TRIGGER hotspot_counts_insert AFTER INSERT ON complaints
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hotspot_counts_add();
CREATE TRIGGER hotspot_counts_delete AFTER DELETE ON complaints
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hotspot_counts_remove();
CREATE TRIGGER hotspot_counts_update AFTER UPDATE ON complaints
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hotspot_counts_move();
CREATE TRIGGER hotspot_counts_truncate AFTER TRUNCATE ON complaints
    FOR EACH STATEMENT EXECUTE FUNCTION hotspot_counts_clear();
