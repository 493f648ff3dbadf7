"""The malformed-file corpus (tests/data/malformed, written by tests/data/make_malformed.py):
each file is refused with its expected message, and none leaves a row behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from data.db import connect, transaction
from data.demo.load import LAYER_TABLES
from data.errors import HygieneMapError
from layers.io.importing import import_file
from layers.io.options import ImportOptions

CORPUS = Path(__file__).parent / "data" / "malformed"
EXPECTED = json.loads((CORPUS / "EXPECTED.json").read_text(encoding="utf-8"))


def test_corpus_is_at_least_thirty_files():
    assert len(EXPECTED) >= 30
    assert all((CORPUS / name).exists() for name in EXPECTED)


@pytest.fixture(scope="module")
def city(module_demo):
    conn = connect(url=module_demo)
    yield conn
    conn.close()


def snapshot(conn) -> dict[str, int]:
    with conn.cursor() as cur:
        counts = {}
        for table in LAYER_TABLES:
            cur.execute(f"SELECT count(*), coalesce(max(updated_at)::text, '') FROM {table}"
                        if table not in ("complaint_events", "grid_assignments", "inspection_events", "inspection_rounds")
                        else f"SELECT count(*), '' FROM {table}")
            counts[table] = cur.fetchone()
    conn.rollback()
    return counts


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_is_refused_cleanly(city, tmp_path, name):
    layer, phrase = EXPECTED[name]
    path = tmp_path / name
    shutil.copy(CORPUS / name, path)
    before = snapshot(city)
    with pytest.raises(HygieneMapError) as caught, transaction(city):
        import_file(city, path, ImportOptions(layer))
    exc = caught.value
    texts = [exc.message] + [p["reason"] for p in getattr(exc, "problems", [])]
    assert any(phrase in t for t in texts), texts
    # Each refused row is said in Chinese too: the rejects file an office corrects gives that reason.
    untranslated = [p["reason"] for p in getattr(exc, "problems", []) if p["severity"] == "error"
                    and p["row"] is not None and p["reason_zh"] == p["reason"]]
    assert not untranslated, untranslated
    # The message names the file (the whole-file errors) or each problem does.
    assert name in exc.message or name == "drawing.dwg" or all(p["file"] == name for p in exc.problems)
    assert snapshot(city) == before
    assert not (tmp_path / (Path(name).stem + ".rejects.csv")).exists()
