-- The shapes a street's grids had until a regrid (grids generate again, layers.workflow.regrid) replaced them.
-- A complaint reported before a regrid but loaded after it is routed to today's grid, which may not have
-- existed then; its place's grid at the time is the first of these shapes, replaced after it was reported,
-- that holds it (layers.workflow.grids.GRID_THEN_SQL). The bulletin charges the complaint to whoever held
-- that grid then. grid_archive keeps only the grids a regrid removed; a grid it reshaped keeps its code, and
-- its old shape was lost until now.
CREATE TABLE grid_shapes (
    code        text NOT NULL,
    street_code text NOT NULL,
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    until       timestamptz NOT NULL
);
CREATE INDEX grid_shapes_geom_idx ON grid_shapes USING gist (geom);
CREATE TRIGGER grid_shapes_append_only BEFORE UPDATE OR DELETE ON grid_shapes
    FOR EACH ROW EXECUTE FUNCTION hm_append_only();
COMMENT ON TABLE grid_shapes IS 'each grid of a street as it was until a regrid of the street (all its grids)';

-- Regrids before this table: the grids they removed are known (grid_archive), the reshaped ones are not.
INSERT INTO grid_shapes (code, street_code, geom, until)
SELECT code, street_code, geom, retired_at FROM grid_archive;
