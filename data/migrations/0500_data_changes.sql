-- A row per statement that changes a table the analyses read. The web
-- server keys its cache of analysis answers on how many such rows each
-- table has in the snapshot it reads: a commit that changed a table adds
-- to its count, so an answer is never served for data older than it was
-- computed from. Append-only inserts, so concurrent writers never wait on
-- each other here (a shared counter row would serialise every complaint
-- POST behind a long import).
CREATE TABLE data_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX data_changes_table ON data_changes (table_name, id);

CREATE FUNCTION hm_note_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_changes (table_name) VALUES (TG_TABLE_NAME);
    RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['admin_areas', 'city_settings', 'grids', 'toilets', 'garbage_stations', 'markets',
                             'health_trails', 'urban_villages', 'land_use', 'roads', 'complaints', 'event_types']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION hm_note_data_change()', t || '_data_change', t);
    END LOOP;
END $$;
