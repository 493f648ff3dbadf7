-- Complaint counts on a fixed Web Mercator grid, for heatmaps and low-zoom tiles (issue 4).
--
-- A cell is 1/64 of a zoom-12 tile side (40075016.686 m / 4096 / 64 = 152.874 m; about 121 m on
-- the ground at 37°N). Every heat cell the map uses at zoom 12 and below is a union of whole
-- cells, so a million complaints are counted from ~10^4 rows instead of 10^6, exactly.
-- cx counts cells eastwards from 180°W, cy southwards from the top of the Web Mercator square.
-- Statement-level triggers keep the counts exact on insert (COPY too), delete, a moved point and
-- truncate; a status change does not touch them. Emptied cells keep a row with n = 0.

CREATE FUNCTION complaint_cell_x(geom geometry) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor((ST_X(geom) * 111319.49079327357 + 20037508.342789244) / 152.87405657035254)::integer $$;

CREATE FUNCTION complaint_cell_y(geom geometry) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor((20037508.342789244 - ln(tan(radians(90 + ST_Y(geom)) / 2)) * 6378137)
                       / 152.87405657035254)::integer $$;

CREATE TABLE complaint_cells (
    cx  integer NOT NULL,
    cy  integer NOT NULL,
    n   integer NOT NULL CHECK (n >= 0),
    PRIMARY KEY (cx, cy)
);

CREATE FUNCTION complaint_cells_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO complaint_cells (cx, cy, n)
    SELECT complaint_cell_x(geom), complaint_cell_y(geom), count(*) FROM new_rows GROUP BY 1, 2
    ON CONFLICT (cx, cy) DO UPDATE SET n = complaint_cells.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION complaint_cells_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE complaint_cells c SET n = c.n - d.n
    FROM (SELECT complaint_cell_x(geom) AS cx, complaint_cell_y(geom) AS cy, count(*) AS n
          FROM old_rows GROUP BY 1, 2) d
    WHERE c.cx = d.cx AND c.cy = d.cy;
    RETURN NULL;
END $$;

CREATE FUNCTION complaint_cells_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only rows whose point changed cell move a count (a status change moves nothing).
    UPDATE complaint_cells c SET n = c.n - d.n
    FROM (SELECT complaint_cell_x(o.geom) AS cx, complaint_cell_y(o.geom) AS cy, count(*) AS n
          FROM old_rows o JOIN new_rows w USING (id)
          WHERE complaint_cell_x(o.geom) <> complaint_cell_x(w.geom) OR complaint_cell_y(o.geom) <> complaint_cell_y(w.geom)
          GROUP BY 1, 2) d
    WHERE c.cx = d.cx AND c.cy = d.cy;
    INSERT INTO complaint_cells (cx, cy, n)
    SELECT complaint_cell_x(w.geom), complaint_cell_y(w.geom), count(*)
    FROM old_rows o JOIN new_rows w USING (id)
    WHERE complaint_cell_x(o.geom) <> complaint_cell_x(w.geom) OR complaint_cell_y(o.geom) <> complaint_cell_y(w.geom)
    GROUP BY 1, 2
    ON CONFLICT (cx, cy) DO UPDATE SET n = complaint_cells.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION complaint_cells_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM complaint_cells;
    RETURN NULL;
END $$;

CREATE TRIGGER complaint_cells_insert AFTER INSERT ON complaints
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION complaint_cells_add();
CREATE TRIGGER complaint_cells_delete AFTER DELETE ON complaints
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION complaint_cells_remove();
CREATE TRIGGER complaint_cells_update AFTER UPDATE ON complaints
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION complaint_cells_move();
CREATE TRIGGER complaint_cells_truncate AFTER TRUNCATE ON complaints
    FOR EACH STATEMENT EXECUTE FUNCTION complaint_cells_clear();

INSERT INTO complaint_cells (cx, cy, n)
SELECT complaint_cell_x(geom), complaint_cell_y(geom), count(*) FROM complaints GROUP BY 1, 2;
