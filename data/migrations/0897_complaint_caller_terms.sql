-- A hotline case found by its caller's number or name (`q`, layers/workflow/callers.py).
--
-- 12345 exports carry the caller's name and number in columns of their own (来电人, 联系电话 …); the
-- import keeps them, with every column the complaints layer has no place for, in `attributes`
-- (personal). complaint_caller_terms lists the words of those values as a member of staff types them:
-- NFKC (full-width digits are digits), lower case, a number's digits joined across the spaces and
-- dashes it was written with ("0535-6623456" → 05356623456, "135 2864 0858" → 13528640858), split at
-- spaces and punctuation. callers.py turns `q` into words the same way and asks for rows holding all of
-- them (`@>`), which the GIN index answers without reading a million rows. One expression of built-ins,
-- no per-value loop: ~20 µs a row with attributes (the import of a hotline export pays it once).
-- The function is the index's own: its meaning must never change (a new rule is a new function and
-- index). It names pg_catalog's functions, so pg_restore, which builds indexes with an empty
-- search_path, reads it the same.

CREATE FUNCTION complaint_caller_terms(attributes jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    SELECT pg_catalog.array_remove(pg_catalog.regexp_split_to_array(pg_catalog.regexp_replace(
               pg_catalog.lower(pg_catalog.normalize(
                   pg_catalog.jsonb_path_query_array(attributes, 'strict $.*')::text, 'NFKC')),
               '([0-9])[ \-]+(?=[0-9])', '\1', 'g'),
           '[\s",;/、:\[\]()]+'), '')
    $$;

-- Partial: most complaints (an app's, the public channel's, a city demo's million) keep no extra column, and
-- neither their import nor their load should pay an index entry for nothing.
CREATE INDEX complaints_caller_terms_idx ON complaints USING gin (complaint_caller_terms(attributes))
    WHERE attributes <> '{}'::jsonb;
