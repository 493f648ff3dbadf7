"""Photos of inspection findings: who may add them, their rows (no HTTP here).

Checking, cleaning of EXIF and storing by content hash is
:mod:`layers.workflow.photos` (shared with the public channel); the same photo
sent twice for a finding's stage is one file and one row.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from data.errors import Conflict, Forbidden, NotFound
from data.settings import InspectionSettings
from data.vocab import TO_RECTIFY, city_tz
from layers.workflow.access import User, audit
from layers.workflow.photos import clean, store, stored_file
from layers.workflow.refusals import bad_stage, same_as_before

STAGES = ("before", "after")


def finding_place(finding: dict) -> tuple[str, str]:
    """A finding named with its grid and street, in English and in Chinese (for refusals)."""
    grid, street = finding["grid_code"] or "-", finding["street_code"]
    return (f"finding {finding['id']} in grid {grid} of street {street}",
            f"街道 {street} 网格 {grid} 的问题 {finding['id']}")


def check_upload(user: User, finding: dict, stage: str) -> None:
    """Forbidden unless ``user`` may add a ``stage`` photo: before — an inspector of the finding or an admin;
    after — the finding's street or an admin (who rectifies shows the result)."""
    if stage not in STAGES:
        raise bad_stage(stage)
    where, where_zh = finding_place(finding)
    if user.role == "admin":
        return
    if stage == "before" and user.role == "inspector" and user.may_write_complaint(finding["street_code"],
                                                                                  finding["grid_code"]):
        return
    if stage == "after" and user.role == "street" and user.street_code == finding["street_code"]:
        return
    who, who_zh = ("an inspector of it", "负责检查的检查员") if stage == "before" else ("its street", "所在街道")
    raise Forbidden(f"user {user.name!r} may not add a {stage} photo to {where}: {who} or an admin does",
                    f"用户 {user.name!r} 不能给{where_zh}添加{'整改前' if stage == 'before' else '整改后'}照片："
                    f"由{who_zh}或管理员添加")


_PHOTO_COLUMNS = ("id", "finding_id", "stage", "sha256", "media_type", "bytes", "width", "height", "taken_at",
                  "taken_lon", "taken_lat", "uploaded_by", "uploaded_at")


def _photo_row(r) -> dict:
    out = dict(zip(_PHOTO_COLUMNS, r))
    for k in ("taken_at", "uploaded_at"):
        out[k] = out[k].isoformat() if out[k] else None
    out["url"] = f"/api/inspections/findings/{out['finding_id']}/photos/{out['id']}"
    return out


def add_photo(conn, user: User, finding: dict, stage: str, data: bytes,
              settings: InspectionSettings | None = None) -> tuple[dict, bool]:
    """Clean, store and record a photo of ``finding``; return it and whether it is new (the same photo
    sent again for the same stage answers the row already there)."""
    settings = settings or InspectionSettings.from_env()
    check_upload(user, finding, stage)
    if stage == "after" and finding["status"] != TO_RECTIFY:
        raise Conflict(f"finding {finding['id']} is {finding['status']}: after photos belong to its rectification",
                       f"问题 {finding['id']} 已是{finding['status']}：整改后照片只在整改时添加")
    cleaned, facts = clean(data, settings)
    if stage == "after":
        _not_a_before_photo(conn, finding["id"], hashlib.sha256(cleaned).hexdigest())
    digest = store(cleaned, facts["ext"], settings)
    with conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO inspection_photos (finding_id, stage, sha256, media_type, bytes, width, height, taken_at,
                    taken_lon, taken_lat, uploaded_by)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (finding_id, stage, sha256) DO NOTHING RETURNING {', '.join(_PHOTO_COLUMNS)}""",
            (finding["id"], stage, digest, facts["media_type"], len(cleaned), facts["width"], facts["height"],
             facts["taken_at"], facts["taken_lon"], facts["taken_lat"], user.name),
        )
        row = cur.fetchone()
        if row is None:
            cur.execute(f"SELECT {', '.join(_PHOTO_COLUMNS)} FROM inspection_photos "
                        "WHERE finding_id = %s AND stage = %s AND sha256 = %s", (finding["id"], stage, digest))
            return _photo_row(cur.fetchone()), False
    photo = _photo_row(row)
    audit(conn, user.name, "inspection.photo", f"inspection_finding:{finding['id']}", None,
          {"stage": stage, "sha256": digest})
    return photo, True


def _not_a_before_photo(conn, finding_id: int, digest: str) -> None:
    """InvalidParameter (``file``) when ``digest`` is one of the finding's before photos: the inspector's own
    picture sent back shows no rectification (the rule "已整改 needs an after photo" would be met by it)."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM inspection_photos WHERE finding_id = %s AND stage = 'before' AND sha256 = %s",
                    (finding_id, digest))
        if cur.fetchone() is not None:
            raise same_as_before()


def photos(conn, finding_id: int) -> list[dict]:
    """The photos of a finding, in upload order."""
    return photos_of(conn, [finding_id]).get(finding_id, [])


def photos_of(conn, finding_ids: list[int]) -> dict[int, list[dict]]:
    """The photos of some findings (a page of a list), each finding's in upload order; a finding without any is
    left out."""
    out: dict[int, list[dict]] = {}
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(_PHOTO_COLUMNS)} FROM inspection_photos WHERE finding_id = ANY(%s) "
                    "ORDER BY id", (list(finding_ids),))
        for r in cur.fetchall():
            photo = _photo_row(r)
            out.setdefault(photo["finding_id"], []).append(photo)
    return out


def photo_file(conn, finding_id: int, photo_id: int, settings: InspectionSettings | None = None) -> tuple[Path, str]:
    """The stored file of one photo and its media type, or NotFound."""
    settings = settings or InspectionSettings.from_env()
    with conn.cursor() as cur:
        cur.execute("SELECT sha256, media_type FROM inspection_photos WHERE id = %s AND finding_id = %s",
                    (photo_id, finding_id))
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"finding {finding_id} has no photo {photo_id}", f"问题 {finding_id} 没有照片 {photo_id}")
    path = stored_file(row[0], row[1], settings, f"photo {photo_id}", f"照片 {photo_id}")
    return path, row[1]


def missing_after_photo(conn, finding_id: int) -> tuple[str, str] | None:
    """What ``finding_id`` needs before it is marked 已整改 (in English and in Chinese), or None when an after
    photo was added since it last went (back) to 待整改.

    After a failed re-check the after photos sent before it do not count, and the same photo sent again is
    the row already there (its old time): the reason says so, rather than ask for a photo the user just sent.
    """
    with conn.cursor() as cur:
        cur.execute("""WITH since AS (SELECT max(at) AS at FROM inspection_events
                                      WHERE finding_id = %(id)s AND to_status = %(to_rectify)s)
                       SELECT since.at, count(p.id) FILTER (WHERE p.uploaded_at >= since.at), count(p.id),
                              (SELECT count(*) > 1 FROM inspection_events
                               WHERE finding_id = %(id)s AND to_status = %(to_rectify)s)
                       FROM since LEFT JOIN inspection_photos p ON p.finding_id = %(id)s AND p.stage = 'after'
                       GROUP BY since.at""",
                    {"id": finding_id, "to_rectify": TO_RECTIFY})
        since, fresh, every, sent_back = cur.fetchone()
    if fresh:
        return None
    if every and sent_back:
        when = since.astimezone(city_tz()).strftime("%Y-%m-%d %H:%M")
        return (f"an after photo added since the failed re-check sent it back to {TO_RECTIFY} at {when}: its "
                f"{every} after photo(s) are older, and a photo sent again is the one already there",
                f"{when} 复查未通过退回{TO_RECTIFY}之后新传的整改后照片：已有的 {every} 张整改后照片都更早，"
                "再次上传同一张照片仍是原来那张")
    return "an after photo of the rectification first", "一张整改后照片"
