-- The city's time zone, not named yet (issue: Hong Kong after `city init` kept Beijing time). `city init`
-- without --tz before any admin area writes the default zone (Asia/Shanghai) as a placeholder: the first
-- admin-area import then chooses the zone from where the areas lie (data.catalog.establish_city), as it
-- does without `city init` and as it chooses the metric CRS. A zone named with --tz (`city init`, `city set`)
-- or already chosen from the areas is never pending, so no import changes it.
-- Rows written before this migration are taken as chosen: whether their zone was named cannot be told.
ALTER TABLE city_settings ADD COLUMN time_zone_pending boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN city_settings.time_zone_pending IS
    'true while time_zone is the default placeholder: the first admin-area import chooses the zone from the areas';
