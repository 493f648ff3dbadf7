-- Analysis (issue 5): walking distance along the road network uses
-- pgRouting's pgr_drivingDistance (Debian package postgresql-15-pgrouting).
CREATE EXTENSION IF NOT EXISTS pgrouting;
