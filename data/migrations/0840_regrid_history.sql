-- What a regrid (grids generate again for a street, layers.workflow.regrid) keeps of the time before it.

-- 1. The grid a case lay in when it was reported (a complaint) or observed (a finding), kept when a
-- regrid moves the case to the new grid now containing its place; NULL while it never moved (grid_code
-- is that grid). The bulletin credits a complaint to the unit holding this grid when it was reported,
-- not to the holder of a grid cut later; a finding keeps its unit in responsible_unit already.
ALTER TABLE complaints ADD COLUMN origin_grid_code text;
ALTER TABLE inspection_findings ADD COLUMN origin_grid_code text;
COMMENT ON COLUMN complaints.origin_grid_code IS
    'the grid when reported, kept when a regrid moved the complaint to another grid (NULL: never moved)';
COMMENT ON COLUMN inspection_findings.origin_grid_code IS
    'the grid when observed, kept when a regrid moved the finding to another grid (NULL: never moved)';

-- 2. The old grid a regrid's grid took its assignment from. On a grid's first row (before IS NULL) it
-- says the grid was cut by a regrid at changed_at and did not exist earlier: nobody held it before
-- (layers.workflow.grids.HOLDERS_SQL), where a grid loaded with its first assignment counts as held
-- by it from the start.
ALTER TABLE grid_assignments ADD COLUMN inherited_from text;

-- Rows written by regrids before this column: their reason names the source ("…：继承自 CODE").
ALTER TABLE grid_assignments DISABLE TRIGGER grid_assignments_append_only;
UPDATE grid_assignments SET inherited_from = substring(reason FROM '继承自 (\S+)$')
WHERE reason LIKE '网格重新划分%继承自 %';
ALTER TABLE grid_assignments ENABLE TRIGGER grid_assignments_append_only;
