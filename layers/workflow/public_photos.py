"""Photos of public reports and their cases (issue 17): the resident's, and staff's before/after.

A resident adds up to :data:`PER_REPORT` photos to the report they just
made, proving it with the report's challenge (the single-use proof-of-work
challenge only their client knows: the tracking number alone is not enough,
it is printed and shared) within ``HYGIENE_MAP_PUBLIC_PHOTO_MINUTES`` of the
report. Staff of the case's street add before photos at any time and after
photos once the work is done (核查 or 结案). Each photo is checked, cleaned of
EXIF and stored by :mod:`layers.workflow.photos`; the public reaches it only
by a random ``key`` (``/api/public/photos/{key}``). A tracking page shows the
case's staff photos to anyone and the report's own to its reporter (the
report's key), never who took them.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from data.errors import Conflict, Forbidden, NotFound
from data.settings import InspectionSettings, PublicSettings
from data.vocab import CLOSED, PUBLIC_ACTOR
from layers.workflow import complaints as cases
from layers.workflow.access import User, audit
from layers.workflow.photos import clean, store, stored_file
from layers.workflow.refusals import bad_stage, no_report, same_as_before

#: At most this many photos per public report (the page offers as many).
PER_REPORT = 3
#: At most this many staff photos per case and stage.
PER_STAFF_STAGE = 10
STAGES = ("before", "after")
#: After photos show the result: once the work is being checked or the case is closed.
AFTER_FROM = ("核查", CLOSED)
URL = "/api/public/photos/"
_COLUMNS = ("id", "key", "complaint_id", "tracking", "stage", "media_type", "bytes", "width", "height",
            "uploaded_by", "uploaded_at")


def _row(r) -> dict:
    out = dict(zip(_COLUMNS, r))
    out["uploaded_at"] = out["uploaded_at"].isoformat()
    out["url"] = URL + out["key"]
    return out


def shown(photo: dict) -> dict:
    """What the public sees of a photo: stage, URL, size and time (never who took it, nor the report)."""
    return {k: photo[k] for k in ("stage", "url", "width", "height", "uploaded_at")}


def _recorded(cur, complaint_id: int, digest: str, tracking: str | None, stage: str) -> dict | None:
    """The photo with this content already recorded for the report (or the case's staff stage), if any."""
    cur.execute(f"SELECT {', '.join(_COLUMNS)} FROM public_photos WHERE complaint_id = %s AND sha256 = %s AND "
                "tracking IS NOT DISTINCT FROM %s AND stage = %s", (complaint_id, digest, tracking, stage))
    row = cur.fetchone()
    return _row(row) if row else None


def _insert(conn, *, complaint_id: int, tracking: str | None, stage: str, data: bytes, actor: str,
            conflict: str, full: Conflict | None = None) -> tuple[dict, bool]:
    """Clean, store and record a photo; an identical one already recorded (``conflict`` names its unique
    columns) answers the row already there with ``False``. ``full``: no room is left, and this refusal
    (Conflict) is said before anything is stored — unless this very photo is there (its answer was lost)."""
    settings = InspectionSettings.from_env()  # the photo settings (limits, folder) are the inspections' too
    cleaned, facts = clean(data, settings)
    digest = hashlib.sha256(cleaned).hexdigest()
    cols = ", ".join(_COLUMNS)
    with conn.cursor() as cur:
        if stage == "after":  # the resident's or staff's before picture sent back shows no result
            cur.execute("SELECT 1 FROM public_photos WHERE complaint_id = %s AND stage = 'before' AND sha256 = %s",
                        (complaint_id, digest))
            if cur.fetchone() is not None:
                raise same_as_before()
        if full:
            there = _recorded(cur, complaint_id, digest, tracking, stage)
            if there is None:
                raise full
            return there, False
        store(cleaned, facts["ext"], settings)
        cur.execute(
            f"""INSERT INTO public_photos (key, complaint_id, tracking, stage, sha256, media_type, bytes, width,
                    height, uploaded_by)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT {conflict} DO NOTHING RETURNING {cols}""",
            (secrets.token_urlsafe(24), complaint_id, tracking, stage, digest, facts["media_type"], len(cleaned),
             facts["width"], facts["height"], actor))
        row = cur.fetchone()
        if row is None:
            return _recorded(cur, complaint_id, digest, tracking, stage), False
    return _row(row), True


def add_resident_photo(conn, code: str, challenge: str | None, data: bytes,
                       settings: PublicSettings) -> tuple[dict, bool]:
    """Add a photo to the report with tracking number ``code`` (as stored) for the client that made it (it
    holds the report's challenge).

    Forbidden without that challenge; Conflict after the photo window or past :data:`PER_REPORT` photos.
    """
    with conn.cursor() as cur:
        cur.execute("""SELECT r.complaint_id, now() > r.created_at + make_interval(mins => %s),
                              (SELECT count(*) FROM public_photos p WHERE p.tracking = r.tracking),
                              EXISTS (SELECT 1 FROM public_challenges c WHERE c.challenge = %s AND c.tracking = r.tracking)
                       FROM public_reports r WHERE r.tracking = %s FOR UPDATE""",
                    (settings.photo_minutes, challenge or "", code))
        row = cur.fetchone()
    if row is None:
        raise no_report(code)
    complaint_id, late, count, holder = row
    if not holder:
        raise Forbidden(f"challenge: photos are added to report {code} only by the client that made it: send the "
                        "challenge the report was made with", f"challenge：只有提交反映 {code} 的客户端才能给它添加照片："
                        "请发送提交时用的 challenge")
    if late:
        raise Conflict(f"report {code} took photos for {settings.photo_minutes} minutes after it was made "
                       "(HYGIENE_MAP_PUBLIC_PHOTO_MINUTES)", f"反映 {code} 只在提交后 {settings.photo_minutes} "
                       "分钟内接收照片（HYGIENE_MAP_PUBLIC_PHOTO_MINUTES）")
    full = None if count < PER_REPORT else Conflict(f"report {code} has {PER_REPORT} photos already, the most a "
                                                    "report takes", f"反映 {code} 已有 {PER_REPORT} 张照片，已达上限")
    return _insert(conn, complaint_id=complaint_id, tracking=code, stage="before", data=data, actor=PUBLIC_ACTOR,
                   conflict="(tracking, sha256) WHERE tracking IS NOT NULL", full=full)


def add_staff_photo(conn, user: User, complaint_id: int, stage: str, data: bytes) -> tuple[dict, bool]:
    """A before or after photo of a case by staff of its street (or grids) or an admin.

    After photos show the result: only once the case is at 核查 or 结案 (Conflict before).
    """
    if stage not in STAGES:
        raise bad_stage(stage)
    case = cases.get(conn, complaint_id, lock=True)
    if not user.may_write_complaint(case["street_code"], case["grid_code"]):
        raise Forbidden(f"user {user.name!r} may add photos in {user.scope_text()}, not to complaint {complaint_id} "
                        f"of street {case['street_code']}", f"用户 {user.name!r} 可添加照片的范围为"
                        f"{user.scope_text('zh')}，不包括街道 {case['street_code']} 的投诉 {complaint_id}")
    if stage == "after" and case["status"] not in AFTER_FROM:
        raise Conflict(f"complaint {complaint_id} is {case['status']}: after photos show the result, from "
                       f"{' or '.join(AFTER_FROM)} on", f"投诉 {complaint_id} 处于{case['status']}：整改后照片"
                       f"展示处置结果，{'或'.join(AFTER_FROM)}起才能添加")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public_photos WHERE complaint_id = %s AND stage = %s AND tracking IS NULL",
                    (complaint_id, stage))
        count = cur.fetchone()[0]
    full = None if count < PER_STAFF_STAGE else Conflict(
        f"complaint {complaint_id} has {PER_STAFF_STAGE} {stage} photos already",
        f"投诉 {complaint_id} 已有 {PER_STAFF_STAGE} 张{'整改前' if stage == 'before' else '整改后'}照片")
    photo, new = _insert(conn, complaint_id=complaint_id, tracking=None, stage=stage, data=data, actor=user.name,
                         conflict="(complaint_id, stage, sha256) WHERE tracking IS NULL", full=full)
    if new:
        audit(conn, user.name, "complaint.photo", f"complaint:{complaint_id}", None,
              {"stage": stage, "key": photo["key"]})
    return photo, new


def report_photos(conn, complaint_id: int, tracking: str, *, own: bool) -> list[dict]:
    """The photos a tracking page shows: staff's of the case, and with ``own`` (its reporter, holding the
    report's key) the report's own; before first, in order. A resident's photo is theirs as their words are:
    a doorway, a neighbour, a number plate — not for whoever holds the tracking number Open311 lists."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(_COLUMNS)} FROM public_photos WHERE complaint_id = %s "
                    "AND (tracking IS NULL OR (%s AND tracking = %s)) ORDER BY stage = 'after', id",
                    (complaint_id, own, tracking))
        return [shown(_row(r)) for r in cur.fetchall()]


def case_photos(conn, complaint_id: int) -> list[dict]:
    """Every photo of a case, with who added it and from which report (for staff)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(_COLUMNS)} FROM public_photos WHERE complaint_id = %s "
                    "ORDER BY stage = 'after', id", (complaint_id,))
        return [_row(r) for r in cur.fetchall()]


def first_photos(conn, trackings: list[str]) -> dict[str, str]:
    """The path of the first photo anyone sees on each report's tracking page (Open311 ``media_url``): the
    unit's, before or after the work (a resident's own photos are its reporter's only), by tracking."""
    with conn.cursor() as cur:
        cur.execute("""SELECT DISTINCT ON (r.tracking) r.tracking, p.key
                       FROM public_reports r JOIN public_photos p ON p.complaint_id = r.complaint_id
                            AND p.tracking IS NULL
                       WHERE r.tracking = ANY(%s) ORDER BY r.tracking, p.stage = 'after', p.id""", (trackings,))
        return {t: URL + key for t, key in cur.fetchall()}


def photo_file(conn, key: str) -> tuple[Path, str]:
    """The stored file and media type of the photo with this key, or NotFound."""
    with conn.cursor() as cur:
        cur.execute("SELECT sha256, media_type FROM public_photos WHERE key = %s", (key,))
        row = cur.fetchone()
    if row is None:
        raise NotFound("no such photo", "没有这张照片")
    return stored_file(row[0], row[1], InspectionSettings.from_env(), "this photo", "这张照片"), row[1]
