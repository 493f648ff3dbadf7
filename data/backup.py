"""Backups: one tar file holding the database (pg_dump, custom format) and the photo files.

A backup file is an ordinary (uncompressed: the dump is compressed, photos are JPEG/PNG/WebP already) tar
archive an administrator can list with ``tar tf``::

    hygiene-map-backup.json   what it is: format, when made, how many photos, what is not kept
    database.dump             pg_dump --format=custom of the whole database (print jobs' rows left out)
    photos/aa/<sha256>.jpg    every stored photo, by content hash, as under the photo folder

A bare pg_dump file (a backup of an older hygiene-map) is restored too. The file is written 0600 into a
private folder and renamed when complete: it is never readable by others, and a file with the final name is
always a whole backup.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from data.cluster import find_pg_bindir
from data.errors import SetupError
from data.settings import DatabaseSettings, InspectionSettings

DUMP, MANIFEST, FORMAT = "database.dump", "hygiene-map-backup.json", "hygiene-map backup 1"
#: A stored photo (layers/workflow/photos.py); its thumbnails (``<sha256>.t<px>.png``) are remade on demand.
PHOTO = re.compile(r"^photos/([0-9a-f]{2})/(\1[0-9a-f]{62})\.(jpg|png|webp)$")
CLIENT_HINT = "install the PostgreSQL client of the server's version or newer (`sudo apt-get install postgresql-client`)"
CLIENT_HINT_ZH = "请安装与服务器版本相同或更新的 PostgreSQL 客户端（`sudo apt-get install postgresql-client`）"


def _tool(settings: DatabaseSettings, name: str) -> str:
    """pg_dump/pg_restore: beside HYGIENE_MAP_PG_BINDIR or the newest server installed, else on PATH (a host or
    image with only postgresql-client, whose database is DATABASE_URL's)."""
    try:
        beside = find_pg_bindir(settings.pg_bindir) / name
    except SetupError:
        beside = None
    if beside is not None and beside.exists():
        return str(beside)
    if settings.pg_bindir is not None and (settings.pg_bindir / name).exists():
        return str(settings.pg_bindir / name)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise SetupError(f"{name} is not installed: {CLIENT_HINT}", f"未安装 {name}：{CLIENT_HINT_ZH}")


def _run(argv: list[str], what: str, damaged: Path | None = None) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode == 0:
        return
    lines = (result.stderr or result.stdout).strip().splitlines()
    last = lines[-1] if lines else f"exit code {result.returncode}"
    if damaged is not None and re.search(r"input file|valid archive|end of file|corrupt", last):
        raise _damaged(damaged, last)
    raise SetupError(f"{what} failed: {last}", f"{what} 失败：{last}")


def _damaged(path: Path, detail: str) -> SetupError:
    return SetupError(f"the backup file {path} is incomplete or damaged, or not a hygiene-map backup ({detail}); "
                      "nothing was restored",
                      f"备份文件 {path} 不完整或已损坏，或不是 hygiene-map 的备份（{detail}）；未恢复任何内容")


def _photo_files(root: Path) -> list[tuple[str, Path]]:
    """(name in the archive, file) of every stored photo under ``root``, in name order."""
    if not root.is_dir():
        return []
    found = []
    for path in root.glob("??/*"):
        name = f"photos/{path.parent.name}/{path.name}"
        if PHOTO.match(name) and path.is_file():
            found.append((name, path))
    return sorted(found)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def backup(url: str, out: Path, settings: DatabaseSettings | None = None,
           photo_root: Path | None = None) -> tuple[Path, int]:
    """Write the database and every photo to the backup file ``out``; (``out``, number of photos)."""
    settings = settings or DatabaseSettings.from_env()
    photo_root = photo_root or InspectionSettings.from_env().photo_root()
    out = Path(out)
    if not out.parent.is_dir():
        raise SetupError(f"cannot write the backup to {out}: folder {out.parent} does not exist",
                         f"无法把备份写到 {out}：文件夹 {out.parent} 不存在")
    try:  # mkdtemp makes it 0700: the dump inside is never readable by others, whatever pg_dump's umask
        work = Path(tempfile.mkdtemp(prefix=".hygiene-map-backup-", dir=out.parent))
    except OSError as exc:
        raise SetupError(f"cannot write the backup to {out}: {exc.strerror}",
                         f"无法把备份写到 {out}：{exc.strerror}") from None
    try:
        dump = work / DUMP
        _run([_tool(settings, "pg_dump"), "--format=custom", "--no-owner",
              # Print jobs are a day's downloads, not the city's data (data/migrations/0900_print_jobs.sql).
              "--exclude-table-data=print_jobs", f"--file={dump}", f"--dbname={url}"], "pg_dump")
        photos = _photo_files(photo_root)
        manifest = {"format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "photos": len(photos), "not_kept": ["print_jobs (a day's downloads)"]}
        partial = work / "backup.tar"
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
            with tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
                tar.add(dump, arcname=DUMP)
                for name, path in photos:
                    tar.add(path, arcname=name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, out)  # a backup file is either complete or absent
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out, len(photos)


def _read_archive(path: Path, work: Path) -> tuple[Path, list[tuple[Path, Path]]]:
    """The dump and (extracted file, its place under the photo folder) of each photo of the backup ``path``,
    extracted into ``work`` and checked (sizes, photo hashes) before anything is restored."""
    with open(path, "rb") as fh:
        if fh.read(5) == b"PGDMP":  # a bare pg_dump file: a backup of an older hygiene-map, no photos
            return path, []
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = tar.getmembers()
            dump = next((m for m in members if m.name == DUMP and m.isfile()), None)
            manifest = next((m for m in members if m.name == MANIFEST and m.isfile()), None)
            if dump is None or manifest is None:
                raise _damaged(path, f"no {DUMP if dump is None else MANIFEST} in it")
            expected = json.loads(tar.extractfile(manifest).read()).get("photos")
            _extract(tar, dump, work / DUMP, path)
            photos = []
            for member in members:
                match = PHOTO.match(member.name)
                if match and member.isfile():
                    target = work / f"photo-{len(photos)}"
                    if _extract(tar, member, target, path) != match.group(2):
                        raise _damaged(path, f"{member.name} does not match its hash")
                    photos.append((target, Path(match.group(1)) / f"{match.group(2)}.{match.group(3)}"))
            if len(photos) != expected:  # cut off at a file's end: tar alone cannot tell
                raise _damaged(path, f"{len(photos)} of its {expected} photos")
    except (tarfile.TarError, EOFError, ValueError) as exc:  # ValueError: a manifest that is not JSON
        raise _damaged(path, str(exc) or type(exc).__name__) from None
    return work / DUMP, photos


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, path: Path) -> str:
    """Copy ``member`` to ``target`` (0600); its SHA-256. A short member is a damaged archive."""
    digest, size = hashlib.sha256(), 0
    source = tar.extractfile(member)
    with source, os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size != member.size:
        raise _damaged(path, f"{member.name} is cut short")
    return digest.hexdigest()


def _holds_hygiene_map(url: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
            return cur.fetchone()[0]
    finally:
        conn.close()


def restore(target: str | Callable[[], str], backup_file: Path, settings: DatabaseSettings | None = None,
            photo_root: Path | None = None) -> int:
    """Restore a backup into an EMPTY database, in one transaction (all or nothing), then put its photos back;
    the number of photos. ``target``: the database URL, or what makes the database ready and gives its URL (the
    embedded cluster's), called only once the backup has been read whole and found sound."""
    settings = settings or DatabaseSettings.from_env()
    photo_root = photo_root or InspectionSettings.from_env().photo_root()
    path = Path(backup_file)
    if not path.is_file():
        raise SetupError(f"backup file {path} does not exist", f"备份文件 {path} 不存在")
    work = Path(tempfile.mkdtemp(prefix="hygiene-map-restore-"))
    try:
        dump, photos = _read_archive(path, work)
        url = target() if callable(target) else target
        if _holds_hygiene_map(url):
            raise SetupError(
                "the target database is not empty (it has hygiene-map tables): restore into a new, empty database",
                "目标数据库不是空的（已有 hygiene-map 的表）：请恢复到一个新的空数据库"
            )
        _run([_tool(settings, "pg_restore"), "--no-owner", "--single-transaction", "--exit-on-error",
              f"--dbname={url}", str(dump)], "pg_restore", damaged=path)
        for extracted, place in photos:
            _put_photo(extracted, photo_root, place)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return len(photos)


def _put_photo(extracted: Path, root: Path, place: Path) -> None:
    """One photo back in the photo folder ``root`` (made 0700: photos are personal data); kept if already there."""
    target = root / place
    if target.exists():
        return  # named by its content's hash: the same photo
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(extracted, tmp)
    os.replace(tmp, target)  # atomic: the server never serves half a photo
