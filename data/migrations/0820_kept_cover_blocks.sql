-- Issue 18: the kept coverage (migration 0760, geo.coverage_kept) now keeps per area its covered part
-- (the area cut by the union of the discs near its block of areas, geo.coverage_fast) instead of the
-- union of the discs touching it. Covers kept the old way would mix two ways of measuring in one
-- answer after an edit, so they go; the next reader at a standard radius builds each again.
DELETE FROM kept_parts WHERE part LIKE 'coverage cover %';
COMMENT ON COLUMN kept_cover_areas.discs IS
    'the covered part of the area: the area cut by the union of the discs near its block (geo.coverage_fast)';
