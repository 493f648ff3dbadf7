-- Since when a grid's first unit is in force, when that is earlier than the day its roster was loaded
-- (`hygiene-map grids assign roster.xlsx --since 2026-11-01`, `PUT /api/grids/{code}/assignment` with "since").
-- A new city imports last weeks' 12345 complaints and loads its first roster today: from changed_at alone,
-- its first bulletins charge every complaint to no unit though the grids had their units on paper already.
-- changed_at stays when the row was written (and changed_by by whom); effective_from, when set, is when the
-- assignment holds from (layers.workflow.grids.HOLDERS_SQL reads coalesce(effective_from, changed_at)).
-- Only a grid's first unit may be dated back (layers.workflow.rosters.since_problem): a later change dated
-- back would rewrite who held the grid in bulletins already published.
ALTER TABLE grid_assignments ADD COLUMN effective_from timestamptz;
ALTER TABLE grid_assignments ADD CONSTRAINT grid_assignments_effective_from_past
    CHECK (effective_from IS NULL OR effective_from <= changed_at);
COMMENT ON COLUMN grid_assignments.effective_from IS
    'when a grid''s first unit holds from, given when its roster was loaded later (NULL: from changed_at)';
