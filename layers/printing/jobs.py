"""Print jobs: a street atlas drawn in the background, its progress polled, its PDF fetched when done.

An atlas of a hundred grids takes a minute or two to draw; as one GET the browser shows nothing meanwhile
and a reverse proxy (nginx's proxy_read_timeout, 60 s by default) cuts it. A job is started (``start``),
drawn by a thread of the process that started it (``run``), and read by any process (``status``, ``pdf``):
its state, progress and PDF live in the ``print_jobs`` table (data/migrations/0900_print_jobs.sql), not in
one process's memory, because the server may run several worker processes.

Who reads a job: the user who started it, or an admin; anyone else is told it does not exist (404, as for an
unknown id): the PDF shows staff phones as its starter may read them. Finished jobs are deleted ``KEEP``
after they end; a job whose progress has not moved for ``STALE`` (its server was killed) is failed.
"""

from __future__ import annotations

import io
import logging
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from data.db import transaction
from data.errors import HygieneMapError, NotFound
from layers.workflow.access import User

log = logging.getLogger(__name__)

#: How long a finished job (done or failed) and its PDF are kept after it ends.
KEEP = timedelta(hours=24)
#: A queued or running job whose progress has not moved for this long is failed (its server stopped):
#: progress moves at least every grid read and every part drawn, seconds apart.
STALE = timedelta(minutes=10)
#: Progress is written at most this often (seconds), and at every change of stage.
WRITE_EVERY_S = 1.0

_WORDS = {
    "zh": {"queued": "排队等待生成", "loading": "正在读取第 {done}/{total} 个网格", "drawing": "正在生成第 {done}/{total} 页",
           "done": "已生成，共 {total} 页", "failed": "生成失败：{message}"},
    "en": {"queued": "waiting to start", "loading": "reading grid {done}/{total}", "drawing": "drawing page {done}/{total}",
           "done": "done: {total} pages", "failed": "failed: {message}"},
}
_STALE_EN = "the server stopped while drawing this atlas (restarted or killed): start it again"
_STALE_ZH = "生成图册时服务器已停止（重启或被终止）：请重新开始打印"
_CRASH_EN = "the atlas could not be drawn (an error inside the server, written to its log): try again or use the CLI"
_CRASH_ZH = "图册生成出错（服务器内部错误，已写入日志）：请重试或改用命令行打印"


def _hidden(job_id: str) -> NotFound:
    return NotFound(f"no print job {job_id!r} of yours (jobs are kept {KEEP.total_seconds() / 3600:g} hours "
                    "after they end)",
                    f"没有您的打印任务 {job_id!r}（任务结束后保留 {KEEP.total_seconds() / 3600:g} 小时）")


def start(conn, user: User, street_code: str, paper: str, lang: str) -> str:
    """Record a new queued atlas job of ``user`` (committed: another process may be polled next); its id.

    Jobs that have expired or gone stale are swept first."""
    job_id = secrets.token_urlsafe(16)
    with transaction(conn), conn.cursor() as cur:
        _sweep(cur)
        cur.execute("INSERT INTO print_jobs (id, user_id, street_code, paper, lang) VALUES (%s, %s, %s, %s, %s)",
                    (job_id, user.id, street_code, paper, lang))
    return job_id


def _sweep(cur) -> None:
    cur.execute("DELETE FROM print_jobs WHERE finished_at < now() - %s", (KEEP,))
    cur.execute("UPDATE print_jobs SET state = 'failed', message = %s, message_zh = %s, finished_at = now(), "
                "pdf = NULL WHERE state IN ('queued', 'running') AND updated_at < now() - %s",
                (_STALE_EN, _STALE_ZH, STALE))


def status(conn, job_id: str, user: User, lang: str = "zh") -> dict:
    """A job's state, progress and what to say of it in ``lang``, as ``user`` may read it (else NotFound)."""
    with transaction(conn), conn.cursor() as cur:
        _sweep(cur)
        cur.execute("SELECT user_id, street_code, paper, state, stage, done, total, message, message_zh, "
                    "created_at, finished_at FROM print_jobs WHERE id = %s", (job_id,))
        row = cur.fetchone()
    if row is None or not _may_read(user, row[0]):
        raise _hidden(job_id)
    _, street, paper, state, stage, done, total, message, message_zh, created, finished = row
    words = _WORDS["en" if lang == "en" else "zh"]
    key = stage if state == "running" and stage else ("queued" if state == "running" else state)
    said = words[key].format(done=done, total=total, message=message_zh if lang != "en" and message_zh else message)
    answer = {"id": job_id, "kind": "atlas", "street": street, "paper": paper, "state": state, "stage": stage,
              "done": done, "total": total, "message": said,
              "created_at": created.isoformat(), "finished_at": finished.isoformat() if finished else None,
              "expires_at": (finished + KEEP).isoformat() if finished else None}
    if state == "done":
        answer["pdf"] = f"/print/jobs/{job_id}/atlas.pdf"
    return answer


def _may_read(user: User, owner: int) -> bool:
    return user.role == "admin" or user.id == owner


def pdf(conn, job_id: str, user: User) -> tuple[str, bytes]:
    """(street code, PDF) of a finished job ``user`` may read; NotFound else (also while it is not done:
    the poll says when it is)."""
    with conn.cursor() as cur:
        cur.execute("SELECT user_id, street_code, pdf FROM print_jobs WHERE id = %s AND state = 'done' "
                    "AND finished_at >= now() - %s", (job_id, KEEP))
        row = cur.fetchone()
    if row is None or not _may_read(user, row[0]) or row[2] is None:
        raise _hidden(job_id)
    return row[1], bytes(row[2])


class Reporter:
    """The layers.printing.pdf Progress of one job: written to its row, at most every WRITE_EVERY_S seconds
    (and at every change of stage), each on a pooled connection of its own, committed at once."""

    def __init__(self, db, job_id: str):
        self.db, self.job_id = db, job_id
        self._last = (None, 0.0)

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._last[0] and now - self._last[1] < WRITE_EVERY_S and done < total:
            return
        self._last = (stage, now)
        self.write("running", stage=stage, done=done, total=total)

    def write(self, state: str, **values) -> None:
        """Set the job's state and ``values`` (columns) and mark it as moving."""
        sets = ", ".join(f"{column} = %({column})s" for column in values)
        ended = ", finished_at = now()" if state in ("done", "failed") else ""
        with self.db.connection() as conn, transaction(conn), conn.cursor() as cur:
            cur.execute(f"UPDATE print_jobs SET state = %(state)s, updated_at = now(){ended}"
                        f"{', ' + sets if sets else ''} WHERE id = %(id)s", {**values, "state": state, "id": self.job_id})


def run(db, job_id: str, street_code: str, options, settings, release: Callable[[], None]) -> None:
    """Draw the atlas of job ``job_id`` (the thread's target) and store it; any failure ends the job as
    failed with a message, never left running. ``release`` (the Costly slot) is called at the end."""
    from layers.printing.docs import atlas_document

    report = Reporter(db, job_id)
    try:
        report.write("running")
        with db.connection() as conn:
            document = atlas_document(conn, street_code, options=options, settings=settings, progress=report,
                                      max_pages=settings.max_pages_http)
            conn.rollback()  # drawing needs no database: no transaction held open for a minute
        total = len(document.pages)
        report.write("running", stage="drawing", done=0, total=total)
        buffer = io.BytesIO()
        document.write(buffer, progress=report)
        report.write("done", stage="drawing", done=total, total=total, pdf=buffer.getvalue())
    except HygieneMapError as exc:  # said to the user as an HTTP answer would say it
        _failed(report, exc.message, exc.zh or exc.message)
    except Exception:
        log.exception("print job %s (atlas of street %s) failed", job_id, street_code)
        _failed(report, _CRASH_EN, _CRASH_ZH)
    finally:
        release()


def _failed(report: Reporter, message: str, zh: str) -> None:
    try:
        report.write("failed", message=message, message_zh=zh)
    except Exception:  # the database is gone: the job goes stale and is read as failed after STALE
        log.exception("print job %s: could not record its failure", report.job_id)
