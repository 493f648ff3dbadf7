"""Where `import --skip-bad` puts the rejected rows when the data sits in a folder the office cannot write.

A city's files often live on a shared drive or a read-only mount (../shared/real-data is one, read-only by
design): the rejects file then goes under the project's home (HYGIENE_MAP_HOME/rejects/), the report saying
where and why, instead of failing or writing into the users' folder (root ignores mode bits). Taipei's real
toilets, with a row whose longitude is not a number appended, imported with the command line as a user would.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from layers.io.batch import rejects_path
from layers.io.options import ImportOptions
from tests.conftest import real_data
from tests.real_city import TAIPEI_FILES, new_city, taipei_areas

TOILETS = "taipei_public_toilets.csv"
REJECTS = "taipei_public_toilets.rejects.csv"
#: Read from the real file: 1,545 toilets, 古亭地政事務所 2.7 km outside Taipei; the appended row makes 1,546.
GOOD = 1544


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages imported into a new database (no toilets yet)."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        taipei_areas(city)
        yield city


def toilets_in(folder: Path) -> Path:
    """Taipei's toilets copied into ``folder`` with one bad row appended (its longitude 'abc')."""
    folder.mkdir()
    path = real_data(f"taipei/{TOILETS}", folder)
    with path.open("a", encoding="utf-8") as f:
        f.write("大同區,交通,壞座標公廁,臺北市大同區某路1號,abc,25.06,某單位,1,0,0,1,0,0,0\n")
    return path


@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` made read-only (r-x for all) for the block, as a shared data folder is."""
    folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o755)


def written(city, source: str) -> int:
    return city.one("SELECT count(*) FROM toilets WHERE source = %s", (source,))


def test_rejects_beside_the_input_else_under_the_home_saying_why(taipei, tmp_path):
    """Beside the input where an office finds it; its folder made read-only, under the home, the report saying
    where and why (in Chinese, in English with --lang en), a second import replacing it, a dry run too."""
    share, home = tmp_path / "share", tmp_path / "home"
    path = toilets_in(share)
    env = {"HYGIENE_MAP_HOME": str(home)}
    done = taipei.cli("import", "toilets", path, "--skip-bad", "--source", "office", env=env)
    assert (share / REJECTS).exists() and not (home / "rejects").exists()
    assert f"拒收的行及原因：{share / REJECTS}\n" in done.stdout and "只读" not in done.stdout, done.stdout
    assert written(taipei, "office") == GOOD
    (share / REJECTS).unlink()

    kept = home / "rejects" / REJECTS
    with read_only(share):
        done = taipei.cli("import", "toilets", path, "--skip-bad", "--source", "ro-share", env=env)
        assert sorted(p.name for p in share.iterdir()) == [TOILETS]  # nothing written beside the input
        assert f"拒收的行及原因：{kept}（输入文件所在的文件夹 {share} 只读" in done.stdout, done.stdout
        text = kept.read_text(encoding="utf-8-sig")
        assert "古亭地政事務所" in text and "壞座標公廁" in text and "經度：坐标 'abc' 不是有效数字" in text
        assert written(taipei, "ro-share") == GOOD  # the good rows imported

        # Again, in English: the same file replaced (its two rows once), the reason said in English.
        again = taipei.cli("import", "toilets", path, "--skip-bad", "--source", "ro-share", "--lang", "en", env=env)
        assert f"rejected rows and reasons: {kept} (the input's folder {share} is read-only" in again.stdout
        text = kept.read_text(encoding="utf-8-sig")
        assert text.count("壞座標公廁") == 1 and "經度: coordinate 'abc' is not a finite number" in text, text

        # A dry run lists the refused rows for correction before anything is imported: there too.
        kept.unlink()
        dry = taipei.cli("import", "toilets", path, "--skip-bad", "--dry-run", "--source", "ro-dry", env=env)
        assert kept.exists() and f"拒收的行及原因：{kept}（" in dry.stdout, dry.stdout
        assert sorted(p.name for p in share.iterdir()) == [TOILETS] and written(taipei, "ro-dry") == 0


def test_rejects_given_into_a_read_only_folder_is_refused_naming_it(taipei, tmp_path):
    folder, closed = tmp_path / "office", tmp_path / "closed"
    path = toilets_in(folder)
    closed.mkdir()
    with read_only(closed):
        done = taipei.cli("import", "toilets", path, "--skip-bad", "--source", "refused", "--rejects",
                          closed / "bad.csv", "--lang", "en", check=False)
        assert done.returncode == 2, (done.stdout, done.stderr)
        assert "--rejects" in done.stderr and f"cannot write {closed / 'bad.csv'}" in done.stderr, done.stderr
        assert list(closed.iterdir()) == [] and not (folder / REJECTS).exists()
    assert written(taipei, "refused") == 0  # nothing written to the database


def test_a_read_only_shapefile_folder_keeps_its_rejects_under_the_home(tmp_path, monkeypatch):
    """A folder imported whole (a shapefile's): its rejects inside it when writable, else under the home."""
    folder = tmp_path / "districts"
    folder.mkdir()
    (folder / "districts.shp").write_bytes(b"")
    monkeypatch.setenv("HYGIENE_MAP_HOME", str(tmp_path / "home"))
    opts = ImportOptions("admin_areas", skip_bad=True)
    assert rejects_path(folder, opts) == (folder / "districts.rejects.csv", None)
    os.unlink(folder / "districts.rejects.csv")
    with read_only(folder):
        assert rejects_path(folder, opts) == (tmp_path / "home" / "rejects" / "districts.rejects.csv", folder)
        assert sorted(p.name for p in folder.iterdir()) == ["districts.shp"]
