-- Issue 18: what coverage and siting build from the areas and the land use, kept in the database so
-- that a process starting cold (one CLI run, a restarted server) reads prepared pieces instead of
-- cutting residential land and laying the demand lattice again (geo.kept).
--
-- A part is one derived set (e.g. the communities' residential land in one metric CRS) and the
-- stamp of the tables it was built from: per table, the count and the last id of its data_changes
-- rows (migration 0500). A reader uses a part only while the stamp it reads itself is the same;
-- else it builds the part afresh and stores it again (only that part). A part is written only from
-- committed data, in one transaction, by the process that built it.
CREATE TABLE kept_parts (
    part     text PRIMARY KEY,
    stamp    text NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now()
);

-- Each area of a level, in the metric CRS, made valid there (geo.metric); its WGS84 outline for answers.
CREATE TABLE kept_areas (
    part       text NOT NULL REFERENCES kept_parts ON DELETE CASCADE,
    code       text NOT NULL,
    name       text,
    name_en    text,
    population integer,
    geom       geometry NOT NULL,
    outline    text NOT NULL,
    PRIMARY KEY (part, code)
);

-- The residential land (land-use class R) of each area with people, as pieces: one per land-use polygon
-- cut to the area (land-use polygons form a partition, so the pieces' areas add up).
CREATE TABLE kept_land (
    part  text NOT NULL REFERENCES kept_parts ON DELETE CASCADE,
    code  text NOT NULL,
    piece geometry NOT NULL
);
CREATE INDEX kept_land_part ON kept_land (part, code);

-- Siting's demand lattice per community (geo.demand): little-endian float64 rows x, y, weight.
CREATE TABLE kept_demand (
    part   text NOT NULL REFERENCES kept_parts ON DELETE CASCADE,
    code   text NOT NULL,
    points bytea NOT NULL,
    PRIMARY KEY (part, code)
);

-- Coverage of one facility kind at its standard radius over one level's areas (geo.coverage_kept):
-- the facilities it was measured from (id → metric WKB, as geo.coverage_fast reads them), and per
-- area the union of the discs touching it with its covered m² and
-- covered residential m². When only the facility table's stamp moved, a reader measures again the
-- areas near the added, moved or removed facilities and updates those rows.
CREATE TABLE kept_cover_facilities (
    part text NOT NULL REFERENCES kept_parts ON DELETE CASCADE,
    id   bigint NOT NULL,
    geom bytea NOT NULL,
    PRIMARY KEY (part, id)
);
CREATE TABLE kept_cover_areas (
    part           text NOT NULL REFERENCES kept_parts ON DELETE CASCADE,
    code           text NOT NULL,
    discs          geometry,
    covered_m2     double precision NOT NULL,
    covered_res_m2 double precision NOT NULL,
    PRIMARY KEY (part, code)
);
