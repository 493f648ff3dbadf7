-- Issue 17: photos of public reports and of their cases. Residents add up to
-- three to the report they just made (before); staff of the case's street add
-- before and after photos (after: the result, when the case is closed). The
-- image itself is stored once by content hash (layers/workflow/photos.py),
-- cleaned of EXIF; the public reaches it only by `key`, a random name that
-- cannot be guessed from the tracking number, the case or the file.
CREATE TABLE public_photos (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           text NOT NULL UNIQUE CHECK (key ~ '^[A-Za-z0-9_-]{22,64}$'),
    complaint_id  bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    tracking      text REFERENCES public_reports (tracking) ON DELETE CASCADE,  -- NULL: a staff photo
    stage         text NOT NULL CHECK (stage IN ('before', 'after')),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    media_type    text NOT NULL,
    bytes         integer NOT NULL,
    width         integer NOT NULL,
    height        integer NOT NULL,
    uploaded_by   text NOT NULL,          -- 公众 or the staff member: never shown to the public
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (tracking IS NULL OR stage = 'before')
);
CREATE INDEX public_photos_complaint_idx ON public_photos (complaint_id, id);
CREATE INDEX public_photos_tracking_idx ON public_photos (tracking) WHERE tracking IS NOT NULL;
-- The same photo twice for one report, or for one case's stage by staff, is one row.
CREATE UNIQUE INDEX public_photos_report_once_idx ON public_photos (tracking, sha256) WHERE tracking IS NOT NULL;
CREATE UNIQUE INDEX public_photos_staff_once_idx ON public_photos (complaint_id, stage, sha256) WHERE tracking IS NULL;
