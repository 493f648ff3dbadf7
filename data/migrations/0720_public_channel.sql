-- Issue 17: the public channel. A resident's report is a complaint (routed at
-- insert like every other, channel 网上 or the partner channel's name); what
-- only the public channel has lives in its own tables beside it.

-- One row per public report: its tracking number (short, unguessable; the
-- Open311 service_request_id too) and the case it belongs to. A report made
-- within 50 m / 7 days of an open case of the same type joins that case as a
-- supporter (`joined`) instead of opening a duplicate.
CREATE TABLE public_reports (
    tracking      text PRIMARY KEY CHECK (tracking ~ '^[0-9A-HJKMNP-TV-Z]{10}$'),
    complaint_id  bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    joined        boolean NOT NULL DEFAULT false,
    channel       text NOT NULL,
    description   text,
    geom          geometry(Point, 4326) NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX public_reports_complaint_idx ON public_reports (complaint_id);
-- At most one report opens a case; the others join it.
CREATE UNIQUE INDEX public_reports_opening_idx ON public_reports (complaint_id) WHERE NOT joined;

-- The reporter's contact number, apart from the report: only staff of the
-- case's street read it (layers/workflow/public.py contacts), no public answer
-- joins this table.
CREATE TABLE public_contacts (
    tracking  text PRIMARY KEY REFERENCES public_reports (tracking) ON DELETE CASCADE,
    phone     text NOT NULL CHECK (length(phone) BETWEEN 3 AND 32)
);

-- The responsible unit's reply to the public, shown on the tracking page
-- (staff notes on status changes are internal and never shown).
CREATE TABLE public_replies (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    reply         text NOT NULL CHECK (length(reply) BETWEEN 1 AND 2000),
    actor         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX public_replies_complaint_idx ON public_replies (complaint_id, at);

-- The reporter's rating of a closing, within the rating window after 结案.
-- One rating per report and closing (a case reopened and closed again is rated
-- again); 不满意 with a reason reopens the case as 返工 once per case.
CREATE TABLE public_ratings (
    tracking      text NOT NULL REFERENCES public_reports (tracking) ON DELETE CASCADE,
    complaint_id  bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    closed_at     timestamptz NOT NULL,
    rating        text NOT NULL CHECK (rating IN ('满意', '基本满意', '不满意')),
    reason        text,
    reopened      boolean NOT NULL DEFAULT false,
    rated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tracking, closed_at),
    CHECK (rating <> '不满意' OR length(coalesce(reason, '')) > 0)
);
CREATE INDEX public_ratings_complaint_idx ON public_ratings (complaint_id);
CREATE UNIQUE INDEX public_ratings_reopen_once_idx ON public_ratings (complaint_id) WHERE reopened;

-- Proof-of-work challenges the server issued (no third party): each serves
-- one report, before it expires. The report's tracking number and a digest of
-- its body are kept with it, so a phone that lost the answer and sends the
-- same report again gets the same tracking number, not a second report.
CREATE TABLE public_challenges (
    challenge    text PRIMARY KEY,
    bits         integer NOT NULL,
    expires_at   timestamptz NOT NULL,
    tracking     text,
    fingerprint  text
);
CREATE INDEX public_challenges_expiry_idx ON public_challenges (expires_at);

-- Partner channels of the Open311 GeoReport v2 interface (the 12345 hotline,
-- a 微信 mini-program …): each posts requests with its own api_key, stored
-- only as a SHA-256 digest (`hygiene-map channels add NAME` prints it once).
CREATE TABLE partner_channels (
    name         text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 50),
    key_digest   text NOT NULL UNIQUE,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz
);
