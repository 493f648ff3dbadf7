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

import errno
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


class _Staging:
    """A private folder beside the photo folder (same file system: its photos go into place by rename) holding
    the unpacked dump and ``photos/``; ``made``: the first of the photo folder's parents this restore created."""

    def __init__(self, root: Path, needed: int):
        # A photo folder that is a mount point of its own (a volume): staged inside it, on its file system.
        self.where, self.folder = (root if os.path.ismount(root) else root.parent), None
        self.made = next((p for p in reversed((self.where, *self.where.parents)) if not p.exists()), None)
        have = next(p for p in (self.where, *self.where.parents) if p.exists())
        free = shutil.disk_usage(have).free
        if needed > free:
            raise SetupError(
                f"not enough free space beside the photo folder {root}: the restore unpacks {needed:,} bytes "
                f"(the photos and the database dump) and {have} has {free:,} bytes free; nothing was restored",
                f"照片文件夹 {root} 所在磁盘空间不足：恢复需解包 {needed:,} 字节（照片和数据库转储），"
                f"{have} 仅有 {free:,} 字节可用；未恢复任何内容")
        try:
            self.where.mkdir(parents=True, exist_ok=True)
            self.folder = Path(tempfile.mkdtemp(prefix=".hygiene-map-restore-", dir=self.where))  # 0700
        except OSError as exc:
            self.discard()
            raise _cannot_unpack(root, exc) from None
        self.photos = self.folder / "photos"

    def discard(self) -> None:
        """Remove the staging folder and the parents this restore created: the photo folder's side as before."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.made is None:
            return
        for folder in (self.where, *self.where.parents):  # the parents made, if still empty
            try:
                folder.rmdir()
            except OSError:
                return  # not empty: the embedded cluster made in it is kept, as pg_restore's failure says
            if folder == self.made:
                return


def _cannot_unpack(root: Path, exc: OSError) -> SetupError:
    return SetupError(f"cannot unpack the photos beside the photo folder {root}: {exc.strerror}; nothing was restored",
                      f"无法在照片文件夹 {root} 旁解包照片：{exc.strerror}；未恢复任何内容")


def _unpack(path: Path, root: Path) -> tuple[_Staging | None, Path, int]:
    """(the staging folder, the dump, how many photos) of the backup ``path``: every photo unpacked into the
    staging folder and checked (sizes, hashes) before anything is restored. A bare dump needs none: (None, path, 0)."""
    with open(path, "rb") as fh:
        if fh.read(5) == b"PGDMP":  # a bare pg_dump file: a backup of an older hygiene-map, no photos
            return None, path, 0
    staged = None
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = tar.getmembers()
            dump = next((m for m in members if m.name == DUMP and m.isfile()), None)
            manifest = next((m for m in members if m.name == MANIFEST and m.isfile()), None)
            if dump is None or manifest is None:
                raise _damaged(path, f"no {DUMP if dump is None else MANIFEST} in it")
            expected = json.loads(tar.extractfile(manifest).read()).get("photos")
            photos = [(m, match) for m in members if (match := PHOTO.match(m.name)) and m.isfile()]
            if len(photos) != expected:  # cut off at a file's end: tar alone cannot tell
                raise _damaged(path, f"{len(photos)} of its {expected} photos")
            staged = _Staging(root, dump.size + sum(m.size for m, _ in photos))
            _extract(tar, dump, staged.folder / DUMP, path)
            for member, match in photos:
                folder = staged.photos / match.group(1)
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                if _extract(tar, member, folder / f"{match.group(2)}.{match.group(3)}", path) != match.group(2):
                    raise _damaged(path, f"{member.name} does not match its hash")
    except BaseException as exc:
        if staged is not None:
            staged.discard()
        if isinstance(exc, (tarfile.TarError, EOFError, ValueError)):  # ValueError: a manifest that is not JSON
            raise _damaged(path, str(exc) or type(exc).__name__) from None
        if isinstance(exc, OSError) and staged is not None:  # the disk filled up after all, a quota
            raise _cannot_unpack(root, exc) from None
        raise
    return staged, staged.folder / DUMP, len(photos)


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
    """Restore a backup into an EMPTY database and its photos into the photo folder, all or nothing; the number of
    photos. The photos are unpacked and checked beside the photo folder first, the database is restored in one
    transaction, then the photos are moved into place by rename (nothing left to fail for want of space) and the
    folder made its owner's only (0700, files 0600). ``target``: the database URL, or what makes the database
    ready and gives its URL (the embedded cluster's), called only once the photos are unpacked."""
    settings = settings or DatabaseSettings.from_env()
    photo_root = photo_root or InspectionSettings.from_env().photo_root()
    path = Path(backup_file)
    if not path.is_file():
        raise SetupError(f"backup file {path} does not exist", f"备份文件 {path} 不存在")
    staged, dump, photos = _unpack(path, photo_root)
    try:
        if staged is not None:
            _check_writable(photo_root, staged)
        url = target() if callable(target) else target
        if _holds_hygiene_map(url):
            raise SetupError(
                "the target database is not empty (it has hygiene-map tables): restore into a new, empty database",
                "目标数据库不是空的（已有 hygiene-map 的表）：请恢复到一个新的空数据库"
            )
        _run([_tool(settings, "pg_restore"), "--no-owner", "--single-transaction", "--exit-on-error",
              f"--dbname={url}", str(dump)], "pg_restore", damaged=path)
    except BaseException:
        if staged is not None:
            staged.discard()  # the database unchanged, so is the photo folder
        raise
    if staged is not None:
        _move_in(staged, photo_root)
        staged.made = None  # the photo folder's parents now hold it
        staged.discard()
    _tighten(photo_root)
    return photos


def _check_writable(root: Path, staged: _Staging) -> None:
    """Refuse, before the database is touched, a photo folder (or one of its ``aa/`` folders) the photos cannot
    be moved into."""
    if not root.exists() or not staged.photos.is_dir():
        return
    for folder in (root, *(root / f.name for f in staged.photos.iterdir() if (root / f.name).exists())):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise SetupError(f"the photo folder {folder} is not writable; nothing was restored",
                             f"照片文件夹 {folder} 不可写；未恢复任何内容")


def _move_in(staged: _Staging, root: Path) -> None:
    """The staged photos into the photo folder: the whole folder renamed when there is none yet, else each
    photo renamed into it (one already there is the same photo: it is named by its content's hash)."""
    if not staged.photos.is_dir():
        return
    try:
        try:
            os.rename(staged.photos, root)
            return
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
        for folder in sorted(staged.photos.iterdir()):
            into = root / folder.name
            if not into.exists():
                os.rename(folder, into)
                continue
            for photo in sorted(folder.iterdir()):
                if not (into / photo.name).exists():
                    os.rename(photo, into / photo.name)
    except OSError as exc:
        raise SetupError(
            f"the database was restored, but its photos could not be moved into {root} ({exc.strerror}): they are "
            f"in {staged.photos}; move them there by hand, then run `hygiene-map db migrate`",
            f"数据库已恢复，但照片无法移入 {root}（{exc.strerror}）：照片在 {staged.photos}；"
            "请手动移入，再运行 `hygiene-map db migrate`") from None


def _tighten(root: Path) -> None:
    """The photo folder, its folders and files made their owner's only (photos are personal data): 0700/0600."""
    if not root.is_dir():
        return
    for path in (root, *root.rglob("*")):
        if path.is_symlink():
            continue
        try:
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
        except OSError:  # another user's file (the server's own): not this command's to change
            pass
