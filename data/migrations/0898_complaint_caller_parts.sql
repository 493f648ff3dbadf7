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
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    SELECT coalesce(pg_catalog.array_agg(pg_catalog.regexp_replace(v, '([0-9])[ \-]+(?=[0-9])', '\1', 'g')), '{}')
    FROM (SELECT pg_catalog.btrim(pg_catalog.lower(pg_catalog.normalize(
                     pg_catalog.translate(j OPERATOR(pg_catalog.#>>) '{}', pg_catalog.chr(31), ' '), 'NFKC'))) AS v
          FROM pg_catalog.jsonb_path_query(attributes, 'strict $.*') j) s
    WHERE v <> '' AND pg_catalog.length(v) <= 32
      AND v !~ '^[0-9]{4}\s*[-/.年]\s*[0-9]{1,2}\s*[-/.月]'
    $$;

CREATE FUNCTION complaint_caller_grams(attributes jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    WITH f AS (SELECT pg_catalog.unnest(public.complaint_caller_fields(attributes)) AS v)
    SELECT pg_catalog.array_agg(DISTINCT g) FROM (
        SELECT 'w' || t FROM pg_catalog.unnest(public.complaint_caller_terms(attributes)) t
        UNION ALL
        SELECT 'd' || pg_catalog.substr(r[1], i, 4)
        FROM f, pg_catalog.regexp_matches(f.v, '[0-9]{4,}', 'g') r,
             pg_catalog.generate_series(1, pg_catalog.length(r[1]) - 3) i
        UNION ALL
        SELECT 'h' || pg_catalog.substr(f.v, i, 2)
        FROM f, pg_catalog.generate_series(1, pg_catalog.length(f.v) - 1) i WHERE f.v ~ '[㐀-䶿一-鿿]'
        UNION ALL
        SELECT '^' || pg_catalog.left(f.v, 1) FROM f WHERE f.v ~ '^[㐀-䶿一-鿿]'
    ) grams(g)
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
