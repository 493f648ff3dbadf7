"""SQL of the public channel (issue 17): reports without an account, following them, rating them.

A public report is a complaint like any other (:func:`layers.workflow.complaints.create`:
routed to its grid, 受理, channel 网上 or the partner channel's name), plus a
row in ``public_reports`` carrying its tracking number. A report within the
duplicate radius and days (50 m, 7 days) of an open case of the same type
joins that case as a supporter. The reporter's phone number lives apart in
``public_contacts`` and only :func:`layers.workflow.public_staff.contacts` (staff of the case's street)
reads it; :func:`follow` — what the public sees — never touches it, nor a
staff note or name; the reporter's description only with the report's key
(:mod:`layers.workflow.public_challenges`). After 结案 the reporter (the
key's holder) rates the closing within the rating window; 不满意 with a
reason reopens the case once: as 返工 (处置), or a 不予立案 back to 受理.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from psycopg2 import errors as pg_errors

from data.errors import Conflict, Forbidden, InvalidParameter
from data.settings import ComplaintSettings, PublicSettings
from data.vocab import CLOSED, NOT_FILED, PUBLIC_ACTOR, RATINGS, RECONSIDER, REWORK, UNSATISFIED
from geo import coords
from layers.workflow import complaints as cases
from layers.workflow import public_photos
from layers.workflow.access import audit
from layers.workflow.open311 import channel_display
from layers.workflow.phones import normal_phone, phone_problem
from layers.workflow.public_challenges import holds_key
from layers.workflow.public_outcome import last_step_from, outcome, public_point
from layers.workflow.public_search import CROCKFORD, TRACKING_LENGTH, normal_tracking
from layers.workflow.public_staff import replies
from layers.workflow.refusals import no_report, not_event_type, not_one_of


def new_tracking() -> str:
    """A fresh tracking number: 10 characters of Crockford base32 from :mod:`secrets` (50 bits)."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(TRACKING_LENGTH))


def read_tracking(raw: str) -> str:
    """A tracking number as typed (any case, dashes or spaces, I/L for 1, O for 0) in its stored form.

    Anything that cannot be one is NotFound, like a well-formed number nobody was given.
    """
    text = normal_tracking(raw)
    if text is None:
        raise no_report(repr((raw or "")[:40]))
    return text


# -- Reports -----------------------------------------------------------------------------------------------------


def nearby_open(conn, lon: float, lat: float, category: str, settings: ComplaintSettings | None = None,
                limit: int = 10) -> list[dict]:
    """Open cases of ``category`` within the duplicate radius of a WGS84 point, reported in the last days.

    Each: ``id`` (internal), ``status``, ``reported_at``, ``distance_m``, ``supporters`` (public reports on
    the case beyond the first); nearest first. The degree box narrows by the GiST index, the geography
    distance decides.
    """
    s = settings or ComplaintSettings.from_env()
    dlat = s.duplicate_radius_m / cases.METRES_PER_DEGREE * 1.01
    dlon = dlat / max(math.cos(math.radians(min(abs(lat), 89.0))), 1e-6)
    with conn.cursor() as cur:
        cur.execute(
            """WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom)
               SELECT c.id, c.status, c.reported_at,
                      round(ST_Distance(c.geom::geography, p.geom::geography)::numeric, 1)::float AS distance_m,
                      (SELECT greatest(count(*) - 1, 0) FROM public_reports r WHERE r.complaint_id = c.id)
               FROM complaints c, p
               WHERE c.geom && ST_Expand(p.geom, %(dlon)s, %(dlat)s) AND c.category = %(category)s
                 AND c.status <> %(closed)s AND c.reported_at >= now() - make_interval(days => %(days)s)
                 AND ST_DWithin(c.geom::geography, p.geom::geography, %(radius)s)
               ORDER BY distance_m, c.id LIMIT %(limit)s""",
            {"lon": lon, "lat": lat, "dlon": dlon, "dlat": dlat, "category": category, "closed": CLOSED,
             "days": s.duplicate_days, "radius": s.duplicate_radius_m, "limit": limit})
        return [{"id": r[0], "status": r[1], "reported_at": r[2].isoformat(), "distance_m": r[3],
                 "supporters": r[4]} for r in cur.fetchall()]


def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """A point given in one of :data:`~layers.workflow.complaints.POINT_CRS`, in WGS84."""
    if crs not in cases.POINT_CRS:
        raise not_one_of("crs", cases.POINT_CRS, crs)
    x, y = coords.to_wgs84(lon, lat, crs)
    return float(x), float(y)


def check_place(conn, lon: float, lat: float) -> None:
    """InvalidParameter (lon/lat) when a WGS84 point lies in none of the city's areas: no case could take it.

    Routed as staff's complaints and imported ones are (:func:`layers.workflow.complaints.route`): a city of
    districts only takes a report in its district. Conflict (naming ``city``) when the city has no admin area at
    all: no place could be taken, and moving the marker would not help.
    """
    cases.route(conn, lon, lat)


def submit(conn, *, lon: float, lat: float, category: str, description: str | None, phone: str | None,
           channel: str) -> dict:
    """File a public report at a WGS84 point, or join the nearest open case of its type; its tracking number.

    Returns ``tracking``, ``joined`` (a supporter of an existing case) and ``complaint_id``.
    """
    if phone and (bad := phone_problem(phone)) is not None:  # the grid roster's rule (layers.workflow.phones)
        raise InvalidParameter("phone", *bad)
    phone = normal_phone(phone) if phone else None
    if category not in cases.categories(conn):
        raise not_event_type(category, cases.categories(conn))
    check_place(conn, lon, lat)  # outside the city: refused before anything is written
    near = nearby_open(conn, lon, lat, category, limit=1)
    if near:
        complaint_id, joined = near[0]["id"], True
    else:
        complaint_id = cases.create(conn, lon=lon, lat=lat, category=category, description=description,
                                    channel=channel, reported_at=_now(conn), actor=PUBLIC_ACTOR)["id"]
        joined = False
    tracking = _insert_report(conn, complaint_id, joined, channel, description, lon, lat)
    if phone:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO public_contacts (tracking, phone) VALUES (%s, %s)", (tracking, phone))
    return {"tracking": tracking, "joined": joined, "complaint_id": complaint_id}


def _now(conn) -> datetime:
    """The transaction's time: the case's reported_at then equals its first step's and updated_at (Open311 reads
    them as requested_datetime and updated_datetime, which must not come before it)."""
    with conn.cursor() as cur:
        cur.execute("SELECT now()")
        return cur.fetchone()[0]


def _insert_report(conn, complaint_id: int, joined: bool, channel: str, description: str | None,
                   lon: float, lat: float) -> str:
    """Insert the report under a fresh tracking number (drawn again in the unlikely case it is taken)."""
    for _ in range(5):
        tracking = new_tracking()
        with conn.cursor() as cur:
            cur.execute(
                """INSERT INTO public_reports (tracking, complaint_id, joined, channel, description, geom)
                   VALUES (%s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
                   ON CONFLICT (tracking) DO NOTHING RETURNING tracking""",
                (tracking, complaint_id, joined, channel, description, lon, lat))
            if cur.fetchone():
                return tracking
    raise pg_errors.UniqueViolation("five tracking numbers in a row were taken")  # pragma: no cover


def report(conn, tracking: str) -> dict:
    """The report with this tracking number and its case (internal fields included), or NotFound."""
    code = read_tracking(tracking)
    with conn.cursor() as cur:
        cur.execute(
            """SELECT r.tracking, r.complaint_id, r.joined, r.channel, r.description, r.created_at,
                      ST_X(r.geom), ST_Y(r.geom), c.category, c.status, c.reported_at, c.due_at, c.closed_at,
                      c.street_code, c.grid_code, coalesce(g.responsible_unit, s.name, d.name) AS unit, e.code
               FROM public_reports r JOIN complaints c ON c.id = r.complaint_id
               LEFT JOIN grids g ON g.code = c.grid_code
               LEFT JOIN admin_areas s ON s.code = c.street_code AND s.level = 'street'
               LEFT JOIN admin_areas d ON d.code = c.district_code AND d.level = 'district'
               LEFT JOIN event_types e ON e.name = c.category
               WHERE r.tracking = %s""", (code,))
        row = cur.fetchone()
    if row is None:
        raise no_report(code)
    keys = ("tracking", "complaint_id", "joined", "channel", "description", "created_at", "lon", "lat",
            "category", "status", "reported_at", "due_at", "closed_at", "street_code", "grid_code", "unit",
            "category_code")
    return dict(zip(keys, row))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def follow(conn, tracking: str, settings: PublicSettings | None = None, key: str | None = None) -> dict:
    """What the public sees of a report: its case's steps with times, the unit, its public replies, photos, and
    once closed its ``outcome``: handled, or not taken up (不予立案) with the unit's public reply as the reason.

    Never the contact number, a staff note or a staff name (steps name only the statuses). With the
    report's ``key`` (its reporter): the reporter's own description (not the first reporter's when this
    report joined a case), its own photos and ``may_rate``; without it (anyone holding the tracking number,
    which Open311 lists) ``description`` is None, the photos are the unit's only, ``may_rate`` false and the point
    rounded to about a metre.
    ``reporter`` says which.
    """
    s = settings or PublicSettings.from_env()
    r = report(conn, tracking)
    mine = holds_key(conn, r["tracking"], key)
    with conn.cursor() as cur:
        cur.execute("SELECT seq, from_status, to_status, at FROM complaint_events WHERE complaint_id = %s "
                    "ORDER BY seq", (r["complaint_id"],))
        steps = [{"step": q[0], "from": q[1], "to": q[2], "at": q[3].isoformat()} for q in cur.fetchall()]
        cur.execute("SELECT count(*) - 1 FROM public_reports WHERE complaint_id = %s", (r["complaint_id"],))
        supporters = max(cur.fetchone()[0], 0)
        cur.execute("SELECT rating, rated_at, reopened, closed_at = %s FROM public_ratings WHERE tracking = %s "
                    "ORDER BY rated_at", (r["closed_at"], r["tracking"]))
        rows = cur.fetchall()
        ratings = [{"rating": q[0], "rated_at": q[1].isoformat(), "reopened": q[2]} for q in rows]
        cur.execute("SELECT now()")
        now = cur.fetchone()[0]
    rate_until = _rate_until(r, s)
    rated = any(q[3] for q in rows)  # this closing is rated already
    said = [{"reply": q["reply"], "at": q["at"]} for q in replies(conn, r["complaint_id"])]
    # The reporter knows their own point; anyone else gets it to about a metre (not the doorway).
    lon, lat = (r["lon"], r["lat"]) if mine else public_point(r["lon"], r["lat"])
    return {"tracking": r["tracking"], "joined": r["joined"], "channel": r["channel"],
            "channel_name": channel_display(conn, r["channel"]), "category": r["category"],
            "reporter": mine,
            "description": r["description"] if mine else None, "lon": lon, "lat": lat, "status": r["status"],
            **outcome(conn, r["complaint_id"], r["status"], said),
            "reported_at": _iso(r["created_at"]), "due_at": _iso(r["due_at"]), "closed_at": _iso(r["closed_at"]),
            "unit": r["unit"], "supporters": supporters, "steps": steps, "replies": said, "ratings": ratings,
            "photos": public_photos.report_photos(conn, r["complaint_id"], r["tracking"], own=mine),
            "rate_until": _iso(rate_until), "may_rate": bool(mine and rate_until and now < rate_until and not rated)}


def _rate_until(r: dict, settings: PublicSettings):
    """Until when the closing of a closed case may be rated; None while it is open."""
    if r["status"] != CLOSED or r["closed_at"] is None:
        return None
    return r["closed_at"] + timedelta(days=settings.rating_days)


def rate(conn, tracking: str, rating: str, reason: str | None, settings: PublicSettings | None = None,
         key: str | None = None) -> dict:
    """Rate the closing of a report's case; 不满意 with a reason reopens it, the first time only: as 返工 (处置), or a
    case closed unfiled (不予立案) back to 受理 for a fresh decision on filing it.

    Only the reporter rates: Forbidden without the report's ``key``. Conflict while the case is open, after
    the rating window, or when this closing is rated already.
    Returns ``rating``, ``reopened`` and the case's ``status`` after it.
    """
    s = settings or PublicSettings.from_env()
    if rating not in RATINGS:
        raise not_one_of("rating", RATINGS, rating)
    if rating == UNSATISFIED and not (reason or "").strip():
        raise InvalidParameter("reason", f"{UNSATISFIED} needs a reason saying what is still wrong",
                               f"评价{UNSATISFIED}须写明仍有什么问题")
    r = report(conn, tracking)
    if not holds_key(conn, r["tracking"], key):
        raise Forbidden(f"key: report {r['tracking']} is rated only by its reporter, with the key of the link "
                        "the report page opened (/report/{tracking}#k=…); the tracking number alone is not enough",
                        f"key：反映 {r['tracking']} 只能由反映人评价，须用提交后打开的链接中的凭证"
                        "（/report/{tracking}#k=…）；只有查询码不够")
    case = cases.get(conn, r["complaint_id"], lock=True)
    r.update(status=case["status"], closed_at=_closed_at(conn, r["complaint_id"]))
    until = _rate_until(r, s)
    if until is None:
        raise Conflict(f"report {r['tracking']}: the case is {case['status']}, not closed; rate it once it is 结案",
                       f"反映 {r['tracking']}：案件处于{case['status']}，尚未结案；结案后才能评价")
    with conn.cursor() as cur:
        cur.execute("SELECT now() > %s", (until,))
        if cur.fetchone()[0]:
            raise Conflict(f"report {r['tracking']}: ratings of this closing were taken until {until.isoformat()} "
                           f"({s.rating_days} days, HYGIENE_MAP_PUBLIC_RATING_DAYS)",
                           f"反映 {r['tracking']}：本次结案的评价截至 {until.isoformat()}"
                           f"（{s.rating_days} 天，HYGIENE_MAP_PUBLIC_RATING_DAYS）")
        cur.execute(
            """INSERT INTO public_ratings (tracking, complaint_id, closed_at, rating, reason)
               VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING tracking""",
            (r["tracking"], r["complaint_id"], r["closed_at"], rating, reason))
        if cur.fetchone() is None:
            raise Conflict(f"report {r['tracking']}: this closing is rated already", f"反映 {r['tracking']}：本次结案已评价过")
        cur.execute("SELECT EXISTS (SELECT 1 FROM public_ratings WHERE complaint_id = %s AND reopened)",
                    (r["complaint_id"],))
        reopen = rating == UNSATISFIED and not cur.fetchone()[0]
    step = RECONSIDER if last_step_from(conn, r["complaint_id"]) == NOT_FILED[0] else REWORK
    if reopen:
        _rework(conn, r, step)
    return {"tracking": r["tracking"], "rating": rating, "reopened": reopen,
            "status": step[1] if reopen else CLOSED}


def _closed_at(conn, complaint_id: int) -> datetime | None:
    with conn.cursor() as cur:
        cur.execute("SELECT closed_at FROM complaints WHERE id = %s", (complaint_id,))
        return cur.fetchone()[0]


def _rework(conn, r: dict, step: tuple[str, str]) -> None:
    """Send the closed case back for the reporter's reason: to 处置 (返工), or a 不予立案 to 受理 for a fresh
    decision (复核: it was never filed, so nothing waits in 处置); the rating is marked as the reopening."""
    frm, to = step
    # The reason is the resident's own words: kept with the rating, shown only to the case's staff (contacts);
    # the status note is read by every staff user, other streets' and planners too.
    what = "返工" if step == REWORK else "复核是否立案"
    note = f"{what}：群众评价{UNSATISFIED}（理由见群众反映）"
    with conn.cursor() as cur:
        cur.execute("UPDATE complaints SET status = %s, closed_at = NULL, updated_at = now() WHERE id = %s",
                    (to, r["complaint_id"]))
        cur.execute("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor) "
                    "VALUES (%s, %s, %s, %s, %s)", (r["complaint_id"], frm, to, note, PUBLIC_ACTOR))
        cur.execute("UPDATE public_ratings SET reopened = true WHERE tracking = %s AND closed_at = %s",
                    (r["tracking"], r["closed_at"]))
    audit(conn, PUBLIC_ACTOR, "complaint.rework", f"complaint:{r['complaint_id']}",
          {"status": frm, "closed_at": _iso(r["closed_at"])}, {"status": to, "closed_at": None},
          {"tracking": r["tracking"], "note": note})
