-- Print jobs (layers/printing/jobs.py): a street atlas drawn in the background, its progress polled, its PDF
-- fetched when done (POST /print/streets/{code}/atlas/jobs, GET /print/jobs/{id}, GET /print/jobs/{id}/atlas.pdf).
-- A table, not a process's memory nor files under HYGIENE_MAP_HOME: the server may run several worker
-- processes (and containers sharing only the database), and any of them answers the poll and the download.
-- A job belongs to the user who started it (user_id; an admin reads every job): the PDF shows staff phones as
-- that user may read them. Finished jobs are deleted a day after they end (jobs.KEEP); a job whose updated_at
-- stops moving (its server was killed) is read as failed after jobs.STALE. Backups leave the rows out.
CREATE TABLE print_jobs (
    id text PRIMARY KEY,                      -- random, unguessable (secrets.token_urlsafe)
    user_id integer NOT NULL,
    kind text NOT NULL DEFAULT 'atlas',
    street_code text NOT NULL,
    paper text NOT NULL,
    lang text NOT NULL,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    stage text,                               -- loading (grids read) or drawing (pages drawn)
    done integer NOT NULL DEFAULT 0,
    total integer NOT NULL DEFAULT 0,
    message text,                             -- why it failed, in English
    message_zh text,                          -- and in Chinese
    pdf bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX print_jobs_user ON print_jobs (user_id);
COMMENT ON TABLE print_jobs IS 'street atlases printed in the background for a user; deleted a day after they end';
