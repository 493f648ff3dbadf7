-- Raw-point complaint tiles read from one index (issue 18).
--
-- A tile of raw complaints (zoom 15 and up) used to find its rows with the GiST index and then
-- read each row from the table: complaints arrive in time order from all over the city, so a
-- tile's 400-2,000 rows lie on as many table pages, and a tile nobody asked for lately costs a
-- page read per point. This index keeps the complaints in Web Mercator tile order -- the column
-- and row of the zoom-19 tile holding the point (76.437 m; 8 × 8 per zoom-16 tile) -- and carries
-- every column a tile shown to the public reads, so such a tile is one index-only scan over a few
-- dozen neighbouring index pages (layers/store/tiles.py asks for the key ranges of the tile and
-- its buffer). A tile with more columns (a signed-in user reads more) uses the same index and
-- fetches the rest from the table: the same rows either way.
--
-- The two functions are the index's own (not complaint_cell_x/y, whose cell size was changed
-- once by 0201): an index expression must never change meaning. Their bodies name PostGIS's
-- ST_X/ST_Y by its schema: pg_restore builds indexes with an empty search_path. (A SET search_path
-- clause would do too, but would keep the planner from inlining them.) If the public columns of
-- the complaints layer change, change the INCLUDE list with them (else tiles still answer, reading
-- the table).

DO $$
DECLARE
    postgis text := (SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                     WHERE e.extname = 'postgis');
BEGIN
    EXECUTE format($f$
        CREATE FUNCTION complaint_tile_x(geom geometry) RETURNS integer
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS 'SELECT floor((%1$s.ST_X(geom) * 111319.49079327357 + 20037508.342789244)
                             / 76.43702828517627)::integer'$f$, postgis);
    EXECUTE format($f$
        CREATE FUNCTION complaint_tile_y(geom geometry) RETURNS integer
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS 'SELECT floor((20037508.342789244 - ln(tan(radians(90 + %1$s.ST_Y(geom)) / 2)) * 6378137)
                             / 76.43702828517627)::integer'$f$, postgis);
END $$;

CREATE INDEX complaints_tile_idx ON complaints (complaint_tile_x(geom), complaint_tile_y(geom))
    INCLUDE (id, geom, category, reported_at, status, channel, address, due_at, street_code, grid_code);
