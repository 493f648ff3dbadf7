-- Whether a facility serves the public today (是否在用). A toilet closed, under construction or out of order
-- still stands on the map and in the lists, but reaches no one: coverage, density, siting and the what-if
-- planner count only facilities in service (geo.coverage.kind_filter). New York's restrooms file says so in
-- its Status column (116 of 1,047 closed or not operational). Rows written before this migration are taken as
-- in service, as every analysis took them.
ALTER TABLE toilets ADD COLUMN in_service boolean NOT NULL DEFAULT true;
ALTER TABLE garbage_stations ADD COLUMN in_service boolean NOT NULL DEFAULT true;
ALTER TABLE markets ADD COLUMN in_service boolean NOT NULL DEFAULT true;
ALTER TABLE health_trails ADD COLUMN in_service boolean NOT NULL DEFAULT true;
