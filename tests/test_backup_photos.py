"""Backup and restore as README says, on Taipei: every row and every photo back in a new embedded home.

An administrator backs up a city whose cases have photos, then restores the one backup file into a data home
that does not exist yet (README: "restore into … a new embedded cluster"); the photos are served again.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path

import httpx
import pytest
from PIL import Image

from data.db import connect
from data.migrate import migrate
from tests.conftest import REPO, create_database, drop_database, query
from tests.real_city import CLI, TAIPEI_STREET, taipei, taipei_grids  # noqa: F401 - fixtures

#: What a backup may leave out: a day's print downloads (README says so).
NOT_KEPT = {"print_jobs"}


def _home() -> Path:
    path = Path(tempfile.mkdtemp(prefix="hm-backup-"))
    os.chmod(path, 0o755)  # as root the cluster runs as an unprivileged user, who must reach it
    return path


def _cli(args: list, env: dict) -> subprocess.CompletedProcess:
    """`hygiene-map ARGS` with only ``env``'s hygiene-map settings (no DATABASE_URL unless given)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_MAP_", "DATABASE_URL"))}
    return subprocess.run([*CLI, *map(str, args)], env={**base, "PYTHONPATH": str(REPO), **env}, cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def _photo(colour: tuple, fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, format=fmt)
    return out.getvalue()


def _counts(url: str) -> dict[str, int]:
    tables = [t for (t,) in query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
    return {t: query(url, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables if t not in NOT_KEPT}


@pytest.fixture(scope="module")
def photographed(taipei, taipei_grids):  # noqa: F811
    """Taipei served from its own data home, with two cases of 大同區 and a before photo (JPEG, PNG) on each."""
    from tests.chromium import serve_app

    home = _home()
    env = {"HYGIENE_MAP_HOME": str(home)}
    taipei.token = taipei.cli("users", "add", "taipei-admin", "--role", "admin").stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {taipei.token}"}
    places = taipei.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                        "WHERE street_code = %s ORDER BY code LIMIT 2", (TAIPEI_STREET,))
    urls = {}
    try:
        with serve_app(taipei.url, extra_env=env) as base:
            for i, ((lon, lat), fmt) in enumerate(zip(places, ("JPEG", "PNG"), strict=True)):
                case = httpx.post(base + "/api/complaints", headers=auth, timeout=30, json={
                    "lon": lon, "lat": lat, "category": "暴露垃圾", "source": "巡查", "description": f"巡查發現 {i}"})
                assert case.status_code == 201, case.text
                sent = httpx.post(f"{base}/api/complaints/{case.json()['id']}/photos", headers=auth, timeout=30,
                                  data={"stage": "before"}, files={"file": (f"p{i}.img", _photo((40 * i, 90, 30), fmt))})
                assert sent.status_code == 201, sent.text
                photo = httpx.get(base + sent.json()["url"], timeout=30)
                assert photo.status_code == 200
                urls[sent.json()["url"]] = photo.content
        yield taipei, env, urls
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_backup_restored_into_a_new_home_brings_back_every_row_and_photo(photographed, tmp_path):
    from tests.chromium import serve_app

    city, env, urls = photographed
    backup = tmp_path / "taipei.backup"
    made = _cli(["db", "backup", "--out", backup], {**env, "DATABASE_URL": city.url})
    assert made.returncode == 0, made.stderr
    assert "2 张照片" in made.stdout and "不含打印任务" in made.stdout, made.stdout
    # Callers' phones, photos and token hashes: the owner's only, from the start.
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE((Path(env["HYGIENE_MAP_HOME"]) / "photos").stat().st_mode) == 0o700
    assert [p.name for p in tmp_path.iterdir()] == ["taipei.backup"]  # nothing left beside it
    new_home = _home() / "hygiene-map"  # README: a new server set up from the backup alone
    try:
        done = _cli(["db", "restore", backup], {"HYGIENE_MAP_HOME": str(new_home)})
        assert done.returncode == 0, done.stderr
        assert "已恢复" in done.stdout and "2 张照片" in done.stdout, done.stdout
        url = f"postgresql://hygiene_map@127.0.0.1:{(new_home / 'port').read_text().strip()}/hygiene_map"
        assert _counts(url) == _counts(city.url)
        assert _counts(url)["complaints"] > 0 and _counts(url)["grids"] > 0
        # Photos are personal data: the owner's only, folders and files, and no staging folder left beside them.
        assert set(_modes(new_home / "photos").values()) == {0o700, 0o600}, _modes(new_home / "photos")
        assert len(list((new_home / "photos").glob("??/*.*g"))) == 2
        assert not list(new_home.glob(".hygiene-map-restore-*"))
        with serve_app(url, extra_env={"HYGIENE_MAP_HOME": str(new_home)}) as base:
            for path, content in urls.items():
                served = httpx.get(base + path, timeout=30)
                assert served.status_code == 200, (path, served.text)
                assert served.content == content
    finally:
        _cli(["db", "down"], {"HYGIENE_MAP_HOME": str(new_home)})
        shutil.rmtree(new_home.parent, ignore_errors=True)


def test_restore_into_a_home_db_up_made_and_left_empty(photographed, tmp_path):
    city, env, urls = photographed
    backup = tmp_path / "taipei.backup"
    assert _cli(["db", "backup", "--out", backup], {**env, "DATABASE_URL": city.url}).returncode == 0
    home = _home()
    try:
        assert _cli(["db", "up"], {"HYGIENE_MAP_HOME": str(home)}).returncode == 0
        done = _cli(["db", "restore", backup], {"HYGIENE_MAP_HOME": str(home)})
        assert done.returncode == 0, done.stderr
        url = f"postgresql://hygiene_map@127.0.0.1:{(home / 'port').read_text().strip()}/hygiene_map"
        assert _counts(url) == _counts(city.url)
        assert len(list((home / "photos").glob("??/*.*g"))) == 2
        # Now it holds a city: a second restore is refused, nothing changed.
        again = _cli(["db", "restore", backup], {"HYGIENE_MAP_HOME": str(home)})
        assert again.returncode != 0 and "目标数据库不是空的" in again.stderr and "Traceback" not in again.stderr
        assert _counts(url) == _counts(city.url)
        assert len(list((home / "photos").glob("??/*.*g"))) == 2
        assert not list(home.glob(".hygiene-map-restore-*"))  # the photos it unpacked are gone again
    finally:
        _cli(["db", "down"], {"HYGIENE_MAP_HOME": str(home)})
        shutil.rmtree(home, ignore_errors=True)


def _modes(root: Path) -> dict[str, int]:
    """Mode of the folder ``root`` and of every folder and file in it, by path under it."""
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in (root, *root.rglob("*"))}


def _state(home: Path) -> dict:
    """What a failed restore must leave as it found it: the home's entries, and every photo's mode and bytes."""
    photos = home / "photos"
    return {"home": sorted(p.name for p in home.iterdir()), "modes": _modes(photos),
            "bytes": {str(p.relative_to(photos)): p.read_bytes() for p in photos.rglob("*") if p.is_file()}}


def test_a_restore_whose_photos_do_not_fit_changes_nothing_then_a_restore_tightens_old_photos(
        photographed, tmp_path, monkeypatch):
    """A home `db up` made, whose photo folder was left 0755 by an older install: with too little free space the
    restore is refused before the database is touched, saying how many bytes it needs and has; with room, database
    and photos come back and every photo, old or restored, is its owner's only."""
    from click.testing import CliRunner

    from api.cli.main import main

    city, env, urls = photographed
    backup = tmp_path / "taipei.backup"
    assert _cli(["db", "backup", "--out", backup], {**env, "DATABASE_URL": city.url}).returncode == 0
    with tarfile.open(backup) as tar:
        needed = sum(m.size for m in tar.getmembers() if m.name != "hygiene-map-backup.json")
    home = _home()
    old = _photo((200, 10, 10), "JPEG")
    digest = hashlib.sha256(old).hexdigest()
    (home / "photos" / digest[:2]).mkdir(parents=True)
    (home / "photos" / digest[:2] / f"{digest}.jpg").write_bytes(old)
    for path in (home / "photos", home / "photos" / digest[:2]):
        path.chmod(0o755)
    (home / "photos" / digest[:2] / f"{digest}.jpg").chmod(0o644)
    try:
        assert _cli(["db", "up"], {"HYGIENE_MAP_HOME": str(home)}).returncode == 0
        url = f"postgresql://hygiene_map@127.0.0.1:{(home / 'port').read_text().strip()}/hygiene_map"
        before, rows = _state(home), _counts(url)
        monkeypatch.setattr(shutil, "disk_usage", lambda _path: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
        ours = {"HYGIENE_MAP_HOME": str(home), "DATABASE_URL": None, "HYGIENE_MAP_PHOTO_DIR": None}
        for lang, words in (("zh", ("磁盘空间不足", "未恢复任何内容")), ("en", ("not enough free space", "nothing was restored"))):
            done = CliRunner().invoke(main, ["db", "restore", str(backup), "--lang", lang], env=ours)
            assert done.exit_code != 0, done.output
            assert all(w in done.stderr for w in words) and f"{needed:,}" in done.stderr and "1,000" in done.stderr, \
                done.stderr
            assert _state(home) == before and _counts(url) == rows
        monkeypatch.undo()
        done = _cli(["db", "restore", backup], {"HYGIENE_MAP_HOME": str(home)})
        assert done.returncode == 0, done.stderr
        assert _counts(url) == _counts(city.url)
        assert len(list((home / "photos").glob("??/*.*g"))) == 3
        assert set(_modes(home / "photos").values()) == {0o700, 0o600}, _modes(home / "photos")
        assert (home / "photos" / digest[:2] / f"{digest}.jpg").read_bytes() == old
    finally:
        _cli(["db", "down"], {"HYGIENE_MAP_HOME": str(home)})
        shutil.rmtree(home, ignore_errors=True)


def _refused(bad: Path, target: str, photos: Path) -> None:
    """Restoring ``bad`` into the empty ``target`` fails with one line naming the file, leaving it empty."""
    done = _cli(["db", "restore", bad], {"DATABASE_URL": target, "HYGIENE_MAP_PHOTO_DIR": str(photos)})
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(bad) in lines[0] and "不完整或已损坏" in lines[0], lines[0]
    assert query(target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0] == 0
    assert not photos.exists()


def test_a_damaged_or_foreign_file_is_named_and_nothing_is_restored(photographed, pg_server, tmp_path):
    city, env, _ = photographed
    target = create_database(pg_server[0])
    photos = tmp_path / "photos"
    try:
        csv = tmp_path / "complaints.csv"  # the wrong file picked
        csv.write_text("编号,经度,纬度\nTP1,121.51,25.06\n", encoding="utf-8")
        _refused(csv, target, photos)
        backup = tmp_path / "taipei.backup"
        assert _cli(["db", "backup", "--out", backup], {**env, "DATABASE_URL": city.url}).returncode == 0
        with tarfile.open(backup) as tar:
            assert {"database.dump", "hygiene-map-backup.json"} <= set(tar.getnames())
            last = tar.getmembers()[-1]
        whole = backup.read_bytes()
        # Cut in the dump, in the last photo, and just before the last photo (the archive then looks complete).
        for n, at in enumerate((len(whole) // 2, last.offset_data + 100, last.offset)):
            cut = tmp_path / f"cut{n}.backup"
            cut.write_bytes(whole[:at])
            _refused(cut, target, photos)
    finally:
        drop_database(target)


def test_backup_and_restore_with_only_the_postgresql_client_on_path(fresh_db, pg_server, tmp_path, monkeypatch):
    """An app host (or the compose app image) with DATABASE_URL and postgresql-client, no server installed."""
    from data import backup as backups
    from data.errors import SetupError
    from data.settings import DatabaseSettings

    client = tmp_path / "bin"
    client.mkdir()
    for tool in ("pg_dump", "pg_restore"):  # the client's programs, as /usr/bin has them
        (client / tool).symlink_to(Path(backups.find_pg_bindir()) / tool)

    def no_server(_override=None):
        raise SetupError("PostgreSQL server is not installed", "未安装 PostgreSQL 服务器")

    monkeypatch.setattr(backups, "find_pg_bindir", no_server)
    monkeypatch.setenv("PATH", f"{client}:/usr/bin:/bin")
    monkeypatch.setenv("HYGIENE_MAP_PHOTO_DIR", str(tmp_path / "photos"))
    conn = connect(url=fresh_db)
    migrate(conn)
    conn.close()
    settings = DatabaseSettings.from_env({"DATABASE_URL": fresh_db})
    out = tmp_path / "city.backup"
    backups.backup(fresh_db, out, settings)
    target = create_database(pg_server[0])
    try:
        backups.restore(target, out, settings)
        assert query(target, "SELECT count(*) FROM pg_tables WHERE tablename = 'city_settings'")[0][0] == 1
    finally:
        drop_database(target)
