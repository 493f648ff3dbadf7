"""Thumbnails of stored photos (the 问题清单 PDF's): made once, kept next to the photo, the same pixels each time."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from layers.workflow.photos import thumbnail


def _photo(folder, colour=(200, 30, 30)) -> object:
    image = Image.new("RGB", (1280, 960), colour)
    image.paste((20, 20, 220), (640, 0, 1280, 960))  # right half blue: the orientation shows
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    path = folder / "ab" / ("ab" + "0" * 62 + ".jpg")
    path.parent.mkdir(parents=True)
    path.write_bytes(out.getvalue())
    return path


def test_a_thumbnail_is_made_once_and_read_back_the_same(tmp_path):
    path = _photo(tmp_path)
    first = np.asarray(thumbnail(path, 96))
    kept = path.with_name(path.stem + ".t96.png")
    assert kept.exists() and first.shape == (72, 96, 3)
    assert first[36, 10, 0] > 150 and first[36, 85, 2] > 150  # red left, blue right, not turned
    made_at = kept.stat().st_mtime_ns
    again = np.asarray(thumbnail(path, 96))
    assert np.array_equal(first, again) and kept.stat().st_mtime_ns == made_at
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []


def test_a_broken_kept_thumbnail_is_made_again(tmp_path):
    path = _photo(tmp_path)
    first = np.asarray(thumbnail(path, 96))
    kept = path.with_name(path.stem + ".t96.png")
    kept.write_bytes(kept.read_bytes()[:40])  # a file torn by a crash
    assert np.array_equal(np.asarray(thumbnail(path, 96)), first)
    assert np.array_equal(np.asarray(Image.open(kept).convert("RGB")), first)


def test_a_thumbnail_that_cannot_be_kept_is_still_given(tmp_path):
    path = _photo(tmp_path)
    blocked = path.with_name(path.stem + ".t96.png")
    blocked.mkdir()  # its place taken (the tests run as root, so a read-only folder would not stop the write)
    small = thumbnail(path, 96)
    assert small.size == (96, 72) and blocked.is_dir()
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, blocked.name])


def test_storing_a_photo_makes_its_print_thumbnail(tmp_path):
    from data.settings import InspectionSettings
    from layers.workflow.photos import PRINT_THUMB_PX, photo_path, store

    settings = InspectionSettings.from_env({"HYGIENE_MAP_PHOTO_DIR": str(tmp_path)})
    out = io.BytesIO()
    Image.new("RGB", (1280, 960), (200, 30, 30)).save(out, format="JPEG", quality=85)
    digest = store(out.getvalue(), "jpg", settings)
    path = photo_path(digest, "jpg", settings)
    kept = path.with_name(f"{path.stem}.t{PRINT_THUMB_PX}.png")
    assert kept.exists()  # a round's first 问题清单 need not decode the photo
    assert np.array_equal(np.asarray(Image.open(kept).convert("RGB")), np.asarray(thumbnail(path, PRINT_THUMB_PX)))
