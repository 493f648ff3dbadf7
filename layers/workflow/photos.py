"""Photos, checked and cleaned of EXIF, stored once by content hash (no HTTP, no tables here).

Shared by inspection findings (layers/workflow/inspection_photos.py) and the
public channel (layers/workflow/public_photos.py). A photo is read with Pillow
(its real format, not the name or the declared type, decides), its time
(DateTimeOriginal) and GPS position are read from EXIF first, then it is
written again without any metadata — EXIF carries the phone's make, serial
numbers, owner names and positions — in its own format, turned upright. The
cleaned bytes are stored once under ``<photo dir>/<aa>/<sha256>.<ext>``
(:meth:`data.settings.InspectionSettings.photo_root`): the same photo sent
twice is one file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import warnings
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from data.errors import InvalidParameter, NotFound
from data.settings import InspectionSettings
from data.vocab import city_tz

log = logging.getLogger("hygiene_map.photos")

#: Formats accepted, with the media type and file extension they are stored with.
#: A phone page shrinks each photo to at most this many pixels on its long side (JPEG) before sending it.
PHONE_PX = 1600
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
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


def _decoded(data: bytes, max_pixels: int) -> Image.Image:
    """The image of ``data``, its size checked from its header before it is decoded (a small file may hold a
    huge image); InvalidParameter naming ``file`` and the limit, or why it cannot be read."""
    limit = f"at most {max_pixels:,} (HYGIENE_MAP_PHOTO_MAX_MEGAPIXELS)"
    limit_zh = f"至多 {max_pixels:,} 像素（HYGIENE_MAP_PHOTO_MAX_MEGAPIXELS）"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below says it in our words
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise InvalidParameter("file", f"is {image.format or 'an unknown format'}; send JPEG, PNG or WebP",
                                       f"是 {image.format or '未知格式'}；请发送 JPEG、PNG 或 WebP 照片")
            if image.width * image.height > max_pixels:
                raise InvalidParameter("file", f"has {image.width}×{image.height} pixels; {limit}",
                                       f"有 {image.width}×{image.height} 像素；{limit_zh}")
            image.load()
    except Image.DecompressionBombError:
        raise InvalidParameter("file", f"has far more pixels than an image may have; {limit}",
                               f"像素远超允许的数量；{limit_zh}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidParameter("file", f"is not a readable JPEG, PNG or WebP image ({type(exc).__name__})",
                               f"不是可读取的 JPEG、PNG 或 WebP 图片（{type(exc).__name__}）") from None
    return image


def clean(data: bytes, settings: InspectionSettings) -> tuple[bytes, dict]:
    """The photo re-encoded without metadata, and what was read from it; InvalidParameter naming ``file``."""
    if not data:
        raise InvalidParameter("file", "is empty", "是空文件")
    if len(data) > settings.photo_max_bytes:
        raise InvalidParameter("file", f"is {len(data):,} bytes; at most {settings.photo_max_bytes:,} "
                                       "(HYGIENE_MAP_PHOTO_MAX_KB): resize it on the phone",
                               f"有 {len(data):,} 字节；至多 {settings.photo_max_bytes:,} 字节"
                               "（HYGIENE_MAP_PHOTO_MAX_KB）：请在手机上缩小照片")
    image = _decoded(data, settings.photo_max_pixels)
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


#: Thumbnail pixels (longest side) of the printed 问题清单: about 190 dpi over its 13 mm photo cell.
PRINT_THUMB_PX = 96


def store(data: bytes, ext: str, settings: InspectionSettings) -> str:
    """Write ``data`` under its SHA-256 (once; an existing file is kept) and return the hash."""
    digest = hashlib.sha256(data).hexdigest()
    path = photo_path(digest, ext, settings)
    if not path.exists():
        # Photos are personal data (faces, plates, homes): the folder is its owner's only, as a backup is.
        path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: a reader never sees half a photo
    try:  # the 问题清单's thumbnail made now, so a round's first print costs what later ones do
        thumbnail(path, PRINT_THUMB_PX)
    except OSError:  # stored but unreadable as an image cannot happen after clean(); a print remakes it anyway
        pass
    return digest


def photo_path(digest: str, ext: str, settings: InspectionSettings) -> Path:
    return settings.photo_root() / digest[:2] / f"{digest}.{ext}"


def stored_file(digest: str, media_type: str, settings: InspectionSettings, what: str, what_zh: str) -> Path:
    """The stored file of a photo recorded with ``digest`` and ``media_type``; if gone, NotFound "photo not
    available" (照片不可用), and the log names ``what`` (``what_zh`` in Chinese) and the missing file.

    The caller is not told the server's path (an anonymous photo URL reaches here); the administrator finds it
    in the log (a restore without the photo folder, a disk cleaned by hand)."""
    ext = next(e for t, e in FORMATS.values() if t == media_type)
    path = photo_path(digest, ext, settings)
    if not path.exists():
        log.warning("the file of %s (%s) is missing: %s", what, what_zh, path)
        raise NotFound("photo not available", "照片不可用")
    return path


def thumbnail(path: Path, px: int) -> Image.Image:
    """The stored photo at ``path`` as RGB at most ``px`` pixels on its longest side.

    Made once and kept next to the photo as ``<sha256>.t<px>.png``: a stored
    photo is named by its content's hash, so its thumbnail never goes stale.
    A JPEG decodes at 1/2…1/8 scale for it (``draft``), far faster than in
    full. OSError or UnidentifiedImageError when the photo cannot be read; a
    photo folder that cannot be written still gives the thumbnail, uncached.
    """
    cached = path.with_name(f"{path.stem}.t{px}.png")
    try:
        with Image.open(cached) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError):
        pass  # not made yet (or a torn file from a crash): make it
    with Image.open(path) as image:
        image.draft("RGB", (px * 3 // 4, px * 3 // 4))
        small = image.convert("RGB")
    small.thumbnail((px, px))
    tmp = cached.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")  # one per writer: prints run in threads
    try:
        small.save(tmp, format="PNG")
        os.replace(tmp, cached)  # atomic: another print never reads half a thumbnail
    except OSError:
        tmp.unlink(missing_ok=True)
    return small
