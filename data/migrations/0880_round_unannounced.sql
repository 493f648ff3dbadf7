-- Whether a round is unannounced (暗访), a choice of its own: a 专项检查 of disease vectors or a 复审模拟 is often
-- made unannounced too, and a 月度暗访 may be announced for once. Until an unannounced round starts, the street
-- offices it inspects and the public do not learn of it (layers.workflow.inspections.kept_from). Rounds planned
-- before this migration keep the rule they were planned under: unannounced when a 月度暗访.
ALTER TABLE inspection_rounds ADD COLUMN unannounced boolean NOT NULL DEFAULT false;
UPDATE inspection_rounds SET unannounced = (kind = '月度暗访');
ALTER TABLE inspection_rounds ALTER COLUMN unannounced DROP DEFAULT;
