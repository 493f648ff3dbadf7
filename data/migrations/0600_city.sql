-- A city of its own (issue 14): its time zone lives with its settings (times written without a
-- zone are read in it, by every process: data.catalog.load_city_tz), and its metric CRS may
-- wait for its admin areas (`hygiene-map city init` before any import; the first admin-area
-- import chooses it from their centre).
ALTER TABLE city_settings
    ADD COLUMN time_zone text NOT NULL DEFAULT 'Asia/Shanghai',
    ALTER COLUMN metric_srid DROP NOT NULL;
COMMENT ON COLUMN city_settings.code IS 'the city''s code: GB/T 2260 for a Chinese city, any area code otherwise';
COMMENT ON COLUMN admin_areas.code IS 'any area code: 1-32 ASCII letters, digits, ''-'' or ''.'' (data.params.AREA_CODE)';
