"""Photos of inspection findings: checked, cleaned of EXIF, stored by content hash (no HTTP here).

A photo is read with Pillow (its real format, not the name or the declared
type, decides), its time (DateTimeOriginal) and GPS position are read from
EXIF first, then it is written again without any metadata — EXIF carries the
phone's make, serial numbers, owner names and positions — in its own format,
turned upright. The cleaned bytes are stored once under
``<photo dir>/<aa>/<sha256>.<ext>``: the same photo sent twice is one file
and one row.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from data.errors import Conflict, Forbidden, InvalidParameter, NotFound
from data.settings import InspectionSettings
from data.vocab import TO_RECTIFY, city_tz
from layers.workflow.access import User, audit

#: Formats accepted, with the media type and file extension they are stored with.
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
STAGES = ("before", "after")
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME = 0x9003, 0x0132


def _degrees(value, ref) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    sign = -1 if str(ref).upper() in ("S", "W") else 1
    return sign * (d + m / 60 + s / 3600)


def exif_facts(image: Image.Image) -> dict:
    """``taken_at`` (EXIF time, read in the city's zone) and ``taken_lon``/``taken_lat`` (GPS), when present."""
    exif = image.getexif()
    out: dict = {"taken_at": None, "taken_lon": None, "taken_lat": None}
    raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if raw:
        try:
            out["taken_at"] = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S").replace(tzinfo=city_tz())
        except ValueError:
            pass
    gps = exif.get_ifd(_GPS_IFD)
    if gps.get(2) and gps.get(4):
        lat, lon = _degrees(gps[2], gps.get(1)), _degrees(gps[4], gps.get(3))
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            out["taken_lat"], out["taken_lon"] = lat, lon
    return out


def clean(data: bytes, settings: InspectionSettings) -> tuple[bytes, dict]:
    """The photo re-encoded without metadata, and what was read from it; InvalidParameter naming ``file``."""
    if not data:
        raise InvalidParameter("file", "is empty")
    if len(data) > settings.photo_max_bytes:
        raise InvalidParameter("file", f"is {len(data):,} bytes; at most {settings.photo_max_bytes:,} "
                                       "(HYGIENE_MAP_PHOTO_MAX_KB): resize it on the phone")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError) as exc:
        raise InvalidParameter("file", f"is not a readable JPEG, PNG or WebP image ({type(exc).__name__})") from None
    if image.format not in FORMATS:
        raise InvalidParameter("file", f"is {image.format or 'an unknown format'}; send JPEG, PNG or WebP")
    if image.width * image.height > settings.photo_max_pixels:
        raise InvalidParameter("file", f"has {image.width}×{image.height} pixels; at most "
                                       f"{settings.photo_max_pixels:,} (HYGIENE_MAP_PHOTO_MAX_MEGAPIXELS)")
    facts = exif_facts(image)
    fmt = image.format
    upright = ImageOps.exif_transpose(image)
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    upright.info.clear()  # exif_transpose leaves the EXIF block in info; some encoders would write it back
    out = io.BytesIO()
    # No exif=, no icc_profile=, no pnginfo=: none of the original's metadata is written.
    upright.save(out, format=fmt, quality=90) if fmt != "PNG" else upright.save(out, format=fmt)
    media_type, ext = FORMATS[fmt]
    return out.getvalue(), {**facts, "media_type": media_type, "ext": ext, "width": upright.width,
                            "height": upright.height}


def store(data: bytes, ext: str, settings: InspectionSettings) -> str:
    """Write ``data`` under its SHA-256 (once; an existing file is kept) and return the hash."""
    digest = hashlib.sha256(data).hexdigest()
    path = photo_path(digest, ext, settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: a reader never sees half a photo
    return digest


def photo_path(digest: str, ext: str, settings: InspectionSettings) -> Path:
    return settings.photo_root() / digest[:2] / f"{digest}.{ext}"


def check_upload(user: User, finding: dict, stage: str) -> None:
    """Forbidden unless ``user`` may add a ``stage`` photo: before — an inspector of the finding or an admin;
    after — the finding's street or an admin (who rectifies shows the result)."""
    if stage not in STAGES:
        raise InvalidParameter("stage", f"must be before or after, not {stage!r}")
    where = f"finding {finding['id']} in grid {finding['grid_code'] or '-'} of street {finding['street_code']}"
    if user.role == "admin":
        return
    if stage == "before" and user.role == "inspector" and user.may_write_complaint(finding["street_code"],
                                                                                  finding["grid_code"]):
        return
    if stage == "after" and user.role == "street" and user.street_code == finding["street_code"]:
        return
    who = "an inspector of it" if stage == "before" else "its street"
    raise Forbidden(f"user {user.name!r} may not add a {stage} photo to {where}: {who} or an admin does")


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
        raise Conflict(f"finding {finding['id']} is {finding['status']}: after photos belong to its rectification")
    cleaned, facts = clean(data, settings)
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


def photos(conn, finding_id: int) -> list[dict]:
    """The photos of a finding, in upload order."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(_PHOTO_COLUMNS)} FROM inspection_photos WHERE finding_id = %s ORDER BY id",
                    (finding_id,))
        return [_photo_row(r) for r in cur.fetchall()]


def photo_file(conn, finding_id: int, photo_id: int, settings: InspectionSettings | None = None) -> tuple[Path, str]:
    """The stored file of one photo and its media type, or NotFound."""
    settings = settings or InspectionSettings.from_env()
    with conn.cursor() as cur:
        cur.execute("SELECT sha256, media_type FROM inspection_photos WHERE id = %s AND finding_id = %s",
                    (photo_id, finding_id))
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"finding {finding_id} has no photo {photo_id}")
    ext = next(e for t, e in FORMATS.values() if t == row[1])
    path = photo_path(row[0], ext, settings)
    if not path.exists():
        raise NotFound(f"the file of photo {photo_id} is missing from {settings.photo_root()}")
    return path, row[1]


def has_fresh_after_photo(conn, finding_id: int) -> bool:
    """Whether an after photo was added since the finding last went (back) to 待整改."""
    with conn.cursor() as cur:
        cur.execute("""SELECT EXISTS (SELECT 1 FROM inspection_photos p WHERE p.finding_id = %(id)s AND p.stage = 'after'
                           AND p.uploaded_at >= (SELECT max(at) FROM inspection_events
                                                 WHERE finding_id = %(id)s AND to_status = %(to_rectify)s))""",
                    {"id": finding_id, "to_rectify": TO_RECTIFY})
        return cur.fetchone()[0]

