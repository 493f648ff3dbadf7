-- Analysis (issue 5): every complaint keeps its coordinates in the city's
-- metric CRS, so a hotspot run bins 1,000,000 complaints into hexagons with
-- arithmetic and one GROUP BY instead of a projection and a spatial join
-- per request. The SRID is stored with the pair: when the city's metric CRS
-- changes (or the row came before city_settings existed, when the UTM zone
-- of the point itself is used), the analysis sees the mismatch and
-- projects on the fly for those rows.

ALTER TABLE complaints
    ADD COLUMN metric_srid integer,
    ADD COLUMN metric_x double precision,
    ADD COLUMN metric_y double precision;

CREATE FUNCTION complaints_metric_xy() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    srid integer;
    projected geometry;
BEGIN
    SELECT metric_srid INTO srid FROM city_settings LIMIT 1;
    IF srid IS NULL THEN
        -- No city yet (a loader writes complaints first): the UTM zone of the point.
        srid := (CASE WHEN ST_Y(NEW.geom) >= 0 THEN 32600 ELSE 32700 END)
                + least(60, floor((ST_X(NEW.geom) + 180) / 6)::integer + 1);
    END IF;
    projected := ST_Transform(NEW.geom, srid);
    NEW.metric_srid := srid;
    NEW.metric_x := ST_X(projected);
    NEW.metric_y := ST_Y(projected);
    RETURN NEW;
END;
$$;

CREATE TRIGGER complaints_metric_xy_trg
    BEFORE INSERT OR UPDATE OF geom ON complaints
    FOR EACH ROW EXECUTE FUNCTION complaints_metric_xy();

-- Rows that existed before this migration.
UPDATE complaints SET geom = geom;
