-- A hotline case found by part of its caller's number or name (`q`, layers/workflow/callers.py): 尾号 0858 finds
-- 135-2864-0858, 吴 finds 吴先生, as a street office asks.
--
-- Why not pg_trgm: the embedded cluster is initdb'd with --locale=C (data/cluster.py), where pg_trgm takes every
-- CJK character for a separator (show_trgm('吴先生') = {}), so a name would have no trigram at all and a search
-- for one would read the whole index. These grams are built here, by code point, the same under any locale.
--
-- complaint_caller_fields: the values a caller's name or number can be — every value of `attributes` of at most
-- 32 characters that is not a date (2026-12-01 …: a 派单时间 column must not answer 尾号 1201), NFKC, lower case,
-- trimmed, a number's digits joined across the spaces and dashes it was written with (as 0897).
-- complaint_caller_grams: what the GIN index holds — 'w' + each word of every value (0897's words, so a whole word
-- is found as before), and of the fields: 'd' + each 4 digits running in a number (a run of 4 or more typed is
-- found by its 4-digit pieces), 'h' + each 2 characters in a value holding a Han character, '^' + its first
-- character when that is Han (a surname typed alone). callers.py asks for the grams of `q` (`@>`), then checks
-- the rows the index gave with LIKE on complaint_caller_text (the fields, each after chr(31)), so that the
-- pieces must be found together, in order, in one value.
-- The functions are the index's own: their meaning must never change (a new rule is a new function and index).
-- They name public's functions schema and all, so pg_restore, which builds indexes with an empty search_path,
-- reads them the same.

CREATE FUNCTION complaint_caller_fields(attributes jsonb) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    DECLARE
        vals jsonb := jsonb_path_query_array(attributes, 'strict $.*');
        v text;
        fields text[] := '{}';
    BEGIN
        FOR k IN 0 .. jsonb_array_length(vals) - 1 LOOP
            v := btrim(lower(normalize(translate(vals ->> k, chr(31), ' '), NFKC)));
            CONTINUE WHEN v IS NULL OR v ~ '^[0-9]{4}\s*[-/.年]\s*[0-9]{1,2}\s*[-/.月]';
            v := regexp_replace(v, '([0-9])[ \-]+(?=[0-9])', '\1', 'g');
            CONTINUE WHEN v = '' OR length(v) > 32;
            fields := fields || v;
        END LOOP;
        RETURN fields;
    END
    $$;

-- Loops of simple expressions, no query inside (plpgsql evaluates those without the executor): a SQL function of
-- subqueries cost ~1 ms a row, this ~0.2 ms (bench/bench_caller_search.py).
CREATE FUNCTION complaint_caller_grams(attributes jsonb) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    DECLARE
        vals jsonb := jsonb_path_query_array(attributes, 'strict $.*');
        n text;
        v text;
        run text;
        grams text[] := '{}';
    BEGIN
        FOR k IN 0 .. jsonb_array_length(vals) - 1 LOOP
            n := btrim(lower(normalize(translate(vals ->> k, chr(31), ' '), NFKC)));
            CONTINUE WHEN n IS NULL;
            v := regexp_replace(n, '([0-9])[ \-]+(?=[0-9])', '\1', 'g');
            FOREACH run IN ARRAY regexp_split_to_array(v, '[\s",;/、:\[\]()]+') LOOP
                IF run <> '' THEN
                    grams := grams || ('w' || run);
                END IF;
            END LOOP;
            CONTINUE WHEN v = '' OR length(v) > 32 OR n ~ '^[0-9]{4}\s*[-/.年]\s*[0-9]{1,2}\s*[-/.月]';
            FOREACH run IN ARRAY regexp_split_to_array(v, '[^0-9]+') LOOP
                FOR i IN 1 .. length(run) - 3 LOOP
                    grams := grams || ('d' || substr(run, i, 4));
                END LOOP;
            END LOOP;
            IF v ~ '[㐀-䶿一-鿿]' THEN
                FOR i IN 1 .. length(v) - 1 LOOP
                    grams := grams || ('h' || substr(v, i, 2));
                END LOOP;
                IF v ~ '^[㐀-䶿一-鿿]' THEN
                    grams := grams || ('^' || left(v, 1));
                END IF;
            END IF;
        END LOOP;
        RETURN grams;
    END
    $$;

CREATE FUNCTION complaint_caller_text(attributes jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    SELECT pg_catalog.chr(31) || pg_catalog.array_to_string(public.complaint_caller_fields(attributes), pg_catalog.chr(31))
    $$;

-- Partial, as 0897's (which it replaces: its words are among these grams): a complaint keeping no extra column
-- pays no index entry.
CREATE INDEX complaints_caller_grams_idx ON complaints USING gin (public.complaint_caller_grams(attributes))
    WHERE attributes <> '{}'::jsonb;
DROP INDEX complaints_caller_terms_idx;
