-- Finer complaint cells (issue 4): 1/64 of a zoom-13 tile side (40075016.686 m / 8192 / 64 =
-- 76.437 m; about 61 m on the ground at 37°N), so heat tiles and heatmap cells up to zoom 13 (not
-- only 12) are sums of whole cells. 0200 made the cells 152.874 m; its triggers call these two
-- functions, so redefining them and recounting is the whole change.

CREATE OR REPLACE FUNCTION complaint_cell_x(geom geometry) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor((ST_X(geom) * 111319.49079327357 + 20037508.342789244) / 76.43702828517627)::integer $$;

CREATE OR REPLACE FUNCTION complaint_cell_y(geom geometry) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor((20037508.342789244 - ln(tan(radians(90 + ST_Y(geom)) / 2)) * 6378137)
                       / 76.43702828517627)::integer $$;

DELETE FROM complaint_cells;
INSERT INTO complaint_cells (cx, cy, n)
SELECT complaint_cell_x(geom), complaint_cell_y(geom), count(*) FROM complaints GROUP BY 1, 2;
