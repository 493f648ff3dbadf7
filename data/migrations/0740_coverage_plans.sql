-- Issue 18: what-if coverage plans. A planner's draft edits to one facility kind (add / move / remove,
-- see layers.analysis.whatif), saved under a name; nothing else is changed by saving a plan.
CREATE TABLE coverage_plans (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL,
    radius_m    double precision NOT NULL CHECK (radius_m > 0),
    by_level    text NOT NULL DEFAULT 'community',
    edits       jsonb NOT NULL CHECK (jsonb_typeof(edits) = 'array'),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
