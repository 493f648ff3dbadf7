-- hygiene-map foundation schema: one table per layer id (DESIGN §5), geometry
-- column `geom` in EPSG:4326 with a GiST index, provenance (`source`,
-- `source_id`) on every importable layer, and history tables that are only
-- ever appended to.

CREATE EXTENSION IF NOT EXISTS postgis;

-- The city this database describes. One row.
CREATE TABLE city_settings (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    code         text NOT NULL,                  -- GB/T 2260 prefecture code (demo: fictional)
    name         text NOT NULL,                  -- zh-CN
    name_en      text,
    metric_srid  integer NOT NULL,               -- projected CRS for metres: UTM zone or CGCS2000 GK
    is_demo      boolean NOT NULL DEFAULT false, -- synthetic data: maps say so
    data_time    timestamptz,                    -- "data as of", printed on maps
    attribution  text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE admin_areas (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    level        text NOT NULL CHECK (level IN ('district', 'street', 'community')),
    code         text NOT NULL UNIQUE,           -- 6 / 9 / 12 digits (GB/T 2260 + 3 + 3)
    name         text NOT NULL,
    name_en      text,
    parent_code  text,
    population   integer CHECK (population >= 0),
    source       text NOT NULL DEFAULT 'manual',
    source_id    text,
    attributes   jsonb NOT NULL DEFAULT '{}',
    geom         geometry(MultiPolygon, 4326) NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);
CREATE INDEX admin_areas_geom_idx ON admin_areas USING gist (geom);
CREATE INDEX admin_areas_level_idx ON admin_areas (level, parent_code);

-- Columns every point/line/area facility layer shares. The area codes are
-- filled at insert by point-in-area, so a street's facilities are one index
-- look-up away (FixMyStreet-style routing, DESIGN §11).
CREATE TABLE markets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text NOT NULL DEFAULT 'manual',
    source_id       text,
    name            text NOT NULL,
    address         text,
    kind            text NOT NULL DEFAULT '农贸市场'
                    CHECK (kind IN ('农贸市场', '集贸市场', '临时便民市场')),
    stalls          integer CHECK (stalls >= 0),
    opening_hours   text,
    operator        text,
    district_code   text,
    street_code     text,
    community_code  text,
    attributes      jsonb NOT NULL DEFAULT '{}',
    geom            geometry(Point, 4326) NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

CREATE TABLE toilets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text NOT NULL DEFAULT 'manual',
    source_id       text,
    name            text NOT NULL,
    address         text,
    grade           text CHECK (grade IN ('一类', '二类', '三类')),
    kind            text CHECK (kind IN ('独立式', '附属式', '活动式')),
    opening_hours   text,
    is_free         boolean NOT NULL DEFAULT true,
    seats           integer CHECK (seats >= 0),
    accessible      boolean,
    manager_unit    text,
    district_code   text,
    street_code     text,
    community_code  text,
    attributes      jsonb NOT NULL DEFAULT '{}',
    geom            geometry(Point, 4326) NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

CREATE TABLE garbage_stations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text NOT NULL DEFAULT 'manual',
    source_id       text,
    name            text NOT NULL,
    address         text,
    kind            text NOT NULL DEFAULT '收集点'
                    CHECK (kind IN ('收集点', '收集站', '转运站')),
    capacity_t_per_day numeric CHECK (capacity_t_per_day >= 0),
    sorted          boolean,                     -- 分类投放
    schedule        text,                        -- collection times
    district_code   text,
    street_code     text,
    community_code  text,
    attributes      jsonb NOT NULL DEFAULT '{}',
    geom            geometry(Point, 4326) NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

CREATE TABLE urban_villages (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source             text NOT NULL DEFAULT 'manual',
    source_id          text,
    name               text NOT NULL,
    kind               text NOT NULL DEFAULT '城中村' CHECK (kind IN ('城中村', '城乡结合部')),
    population         integer CHECK (population >= 0),
    renovation_status  text NOT NULL DEFAULT '未改造'
                       CHECK (renovation_status IN ('未改造', '改造中', '已改造')),
    district_code      text,
    street_code        text,
    community_code     text,
    attributes         jsonb NOT NULL DEFAULT '{}',
    geom               geometry(MultiPolygon, 4326) NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

-- Trails are lines; theme parks and health streets are areas.
CREATE TABLE health_trails (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text NOT NULL DEFAULT 'manual',
    source_id       text,
    name            text NOT NULL,
    kind            text NOT NULL DEFAULT '健康步道'
                    CHECK (kind IN ('健康步道', '健康主题公园', '健康街区')),
    length_m        numeric CHECK (length_m >= 0),
    width_m         numeric CHECK (width_m >= 0),
    equipment_kinds integer CHECK (equipment_kinds >= 0),
    district_code   text,
    street_code     text,
    community_code  text,
    attributes      jsonb NOT NULL DEFAULT '{}',
    geom            geometry(Geometry, 4326) NOT NULL
                    CHECK (GeometryType(geom) IN ('LINESTRING', 'MULTILINESTRING', 'POLYGON', 'MULTIPOLYGON')),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

CREATE TABLE roads (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text NOT NULL DEFAULT 'manual',
    source_id       text,
    name            text,
    class           text NOT NULL DEFAULT '支路'
                    CHECK (class IN ('快速路', '主干路', '次干路', '支路', '背街小巷')),
    district_code   text,
    street_code     text,
    attributes      jsonb NOT NULL DEFAULT '{}',
    geom            geometry(LineString, 4326) NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

-- Land use by GB 50137-2011 major class: R residential, A public service,
-- B commercial, M industrial, W warehouse, S roads/transport, U utilities,
-- G green space and squares, E water and other.
CREATE TABLE land_use (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text NOT NULL DEFAULT 'manual',
    source_id       text,
    class           text NOT NULL CHECK (class IN ('R', 'A', 'B', 'M', 'W', 'S', 'U', 'G', 'E')),
    name            text,
    district_code   text,
    attributes      jsonb NOT NULL DEFAULT '{}',
    geom            geometry(MultiPolygon, 4326) NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

-- Grids (单元网格): the unit of responsibility. The current assignment is
-- kept on the row for fast reads; every change is appended to
-- grid_assignments, which is never updated or deleted.
CREATE TABLE grids (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code              text NOT NULL UNIQUE,      -- STANDARDS §4: 6+3+3+sequence
    name              text,
    district_code     text NOT NULL,
    street_code       text NOT NULL,
    community_code    text NOT NULL,
    responsible_unit  text,
    grid_manager      text,
    phone             text,
    source            text NOT NULL DEFAULT 'manual',
    source_id         text,
    attributes        jsonb NOT NULL DEFAULT '{}',
    geom              geometry(MultiPolygon, 4326) NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);
CREATE INDEX grids_street_idx ON grids (street_code, community_code);

CREATE TABLE grid_assignments (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grid_code         text NOT NULL REFERENCES grids (code) ON UPDATE CASCADE,
    responsible_unit  text,
    grid_manager      text,
    phone             text,
    before            jsonb,                     -- the assignment this one replaced
    reason            text,
    changed_by        text NOT NULL,
    changed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grid_assignments_grid_idx ON grid_assignments (grid_code, changed_at);

-- Hygiene event types (STANDARDS §4): the name is the stable key; numeric
-- codes and time limits are city configuration.
CREATE TABLE event_types (
    name             text PRIMARY KEY,
    name_en          text NOT NULL,
    code             text,
    time_limit_hours integer NOT NULL CHECK (time_limit_hours > 0)
);
-- Default time limits are this project's working values, not a quoted
-- standard (CJ/T 315 leaves them to the city): override per city.
INSERT INTO event_types (name, name_en, time_limit_hours) VALUES
    ('暴露垃圾',     'Exposed garbage',            24),
    ('积存垃圾渣土', 'Accumulated refuse and muck', 48),
    ('道路不洁',     'Dirty road',                 24),
    ('水域不洁',     'Dirty water surface',        72),
    ('绿地脏乱',     'Littered green space',       48),
    ('乱倒污水',     'Illegal sewage dumping',     24),
    ('餐厨垃圾遗撒', 'Spilled kitchen waste',      12),
    ('垃圾满溢',     'Overflowing bins',           12),
    ('占道经营',     'Street vending on the road', 24),
    ('非法小广告',   'Illegal flyers',             48),
    ('病媒生物',     'Disease vectors (rats, mosquitoes, flies)', 72);

-- Complaints: citizen reports (12345, 12319, WeChat …) and inspection
-- findings. `channel` is how it reached the city; `source`/`source_id` is
-- where the row came from (an import file, the API), for re-imports.
CREATE TABLE complaints (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text NOT NULL DEFAULT 'api',
    source_id       text,
    channel         text,
    category        text NOT NULL REFERENCES event_types (name) ON UPDATE CASCADE,
    description     text,
    address         text,
    reported_at     timestamptz NOT NULL,
    status          text NOT NULL DEFAULT '受理'
                    CHECK (status IN ('受理', '立案', '派遣', '处置', '核查', '结案')),
    due_at          timestamptz,
    closed_at       timestamptz,
    district_code   text,
    street_code     text,
    community_code  text,
    grid_code       text,
    attributes      jsonb NOT NULL DEFAULT '{}',
    geom            geometry(Point, 4326) NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);
CREATE INDEX complaints_reported_idx ON complaints (reported_at);
CREATE INDEX complaints_street_idx ON complaints (street_code, status);
CREATE INDEX complaints_grid_idx ON complaints (grid_code, status);

CREATE TABLE complaint_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    from_status   text,
    to_status     text NOT NULL,
    note          text,
    actor         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaint_events_complaint_idx ON complaint_events (complaint_id, at);

CREATE TABLE inspections (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('明察', '暗访')),
    inspected_at  timestamptz NOT NULL,
    inspector     text,
    grid_code     text,
    street_code   text,
    score         numeric,
    findings      text,
    attributes    jsonb NOT NULL DEFAULT '{}',
    geom          geometry(Point, 4326),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One GiST index per layer geometry, and the area-code indexes a street
-- filter uses.
CREATE INDEX markets_geom_idx ON markets USING gist (geom);
CREATE INDEX toilets_geom_idx ON toilets USING gist (geom);
CREATE INDEX garbage_stations_geom_idx ON garbage_stations USING gist (geom);
CREATE INDEX urban_villages_geom_idx ON urban_villages USING gist (geom);
CREATE INDEX health_trails_geom_idx ON health_trails USING gist (geom);
CREATE INDEX roads_geom_idx ON roads USING gist (geom);
CREATE INDEX land_use_geom_idx ON land_use USING gist (geom);
CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX complaints_geom_idx ON complaints USING gist (geom);
CREATE INDEX inspections_geom_idx ON inspections USING gist (geom);
CREATE INDEX markets_street_idx ON markets (street_code);
CREATE INDEX toilets_street_idx ON toilets (street_code);
CREATE INDEX garbage_stations_street_idx ON garbage_stations (street_code);
CREATE INDEX urban_villages_street_idx ON urban_villages (street_code);
CREATE INDEX health_trails_street_idx ON health_trails (street_code);
CREATE INDEX roads_street_idx ON roads (street_code);
