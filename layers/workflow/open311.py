"""SQL of the Open311 GeoReport v2 interface: partner channels and their keys, services, service requests.

A partner channel (the 12345 hotline, a 微信 mini-program …) posts requests
with its own ``api_key``, stored only as a SHA-256 digest. Services are the
event types (``service_code``: the type's code, else its name). A service
request is a public report (:mod:`layers.workflow.public`): its
``service_request_id`` is the tracking number the public page uses; a case
is listed once, under the report that opened it. The reporter's description
and contact are personal data and never listed; ``status_notes`` is the
unit's latest public reply, never a staff note, after "不予立案 (not taken up)"
for a case closed without filing; lat and long are rounded to about a metre.
"""

from __future__ import annotations

from datetime import datetime

from data.errors import Conflict, InvalidParameter, NotFound
from data.vocab import CLOSED, NOT_FILED
from layers.workflow import public_photos
from layers.workflow.access import audit, new_token, token_digest
from layers.workflow.public_outcome import NOT_TAKEN_UP_NOTE, public_point

# -- Partner channels ---------------------------------------------------------------------------------------------


def add_channel(conn, name: str, actor: str, display: str | None = None) -> str:
    """Create a partner channel and return its api_key (the only time it exists in clear); ``display`` is the
    name residents read on the public pages (``name`` when not given)."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 50:
        raise InvalidParameter("NAME", "a channel's name has 1 to 50 characters", "渠道名称须为 1 到 50 个字符")
    display = (display or "").strip() or None
    if display is not None and len(display) > 50:
        raise InvalidParameter("--display", "a channel's display name has 1 to 50 characters",
                               "渠道显示名称须为 1 到 50 个字符")
    key = new_token()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO partner_channels (name, key_digest, created_by, display_name) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (name) DO NOTHING RETURNING name", (name, token_digest(key), actor, display))
        if cur.fetchone() is None:
            raise Conflict(f"a channel named {name!r} exists already (disabled ones too: choose another name)",
                           f"已有名为 {name!r} 的渠道（含已停用的：请换一个名称）")
    audit(conn, actor, "channel.add", f"channel:{name}", None, {"name": name, "display_name": display})
    return key


def disable_channel(conn, name: str, actor: str) -> None:
    """Disable a partner channel: its api_key is refused from now on."""
    with conn.cursor() as cur:
        cur.execute("UPDATE partner_channels SET disabled_at = now() WHERE name = %s AND disabled_at IS NULL "
                    "RETURNING name", (name,))
        if cur.fetchone() is None:
            raise NotFound(f"no enabled channel named {name!r}", f"没有名为 {name!r} 的启用中的渠道")
    audit(conn, actor, "channel.disable", f"channel:{name}", {"disabled": False}, {"disabled": True})


def channel_for_key(conn, api_key: str | None) -> str | None:
    """The name of the enabled channel holding ``api_key``, or None."""
    if not api_key:
        return None
    with conn.cursor() as cur:
        cur.execute("SELECT name FROM partner_channels WHERE key_digest = %s AND disabled_at IS NULL",
                    (token_digest(api_key),))
        row = cur.fetchone()
    return row[0] if row else None


def channel_display(conn, name: str) -> str:
    """What residents read for a channel: a partner's display name, else the channel's name as stored."""
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(display_name, name) FROM partner_channels WHERE name = %s", (name,))
        row = cur.fetchone()
    return row[0] if row else name


# -- Services -----------------------------------------------------------------------------------------------------


def services(conn, lang: str = "zh") -> list[dict]:
    """The event types as GeoReport services (realtime, no extra attributes); ``description`` in one language,
    Chinese or (``lang`` en) English, never both mixed."""
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(code, name), name, name_en, time_limit_hours FROM event_types "
                    "ORDER BY coalesce(code, name)")
        return [{"service_code": r[0], "service_name": r[1],
                 "description": (f"{r[2] or r[1]}: time limit {r[3]} h" if lang == "en"
                                 else f"{r[1]}：处置时限 {r[3]} 小时"),
                 "metadata": False, "type": "realtime", "keywords": r[2], "group": "环境卫生"}
                for r in cur.fetchall()]


def event_type_for(conn, service_code: str) -> str:
    """The event type's name for a service code (its code, or its name); NotFound otherwise."""
    with conn.cursor() as cur:
        cur.execute("SELECT name FROM event_types WHERE code = %s OR name = %s ORDER BY code IS NULL LIMIT 1",
                    (service_code, service_code))
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"no service with service_code {service_code!r}", f"没有 service_code 为 {service_code!r} 的服务")
    return row[0]


# -- Service requests ---------------------------------------------------------------------------------------------

_REQUEST_SQL = """
SELECT r.tracking, c.status, (SELECT p.reply FROM public_replies p WHERE p.complaint_id = c.id
                              ORDER BY p.at DESC, p.id DESC LIMIT 1),
       e.name, coalesce(e.code, e.name), coalesce(g.responsible_unit, s.name, d.name), c.reported_at, c.updated_at,
       c.due_at, c.address, ST_Y(c.geom), ST_X(c.geom),
       (SELECT e.from_status FROM complaint_events e WHERE e.complaint_id = c.id ORDER BY e.seq DESC LIMIT 1)
FROM public_reports r JOIN complaints c ON c.id = r.complaint_id
JOIN event_types e ON e.name = c.category
LEFT JOIN grids g ON g.code = c.grid_code
LEFT JOIN admin_areas s ON s.code = c.street_code AND s.level = 'street'
LEFT JOIN admin_areas d ON d.code = c.district_code AND d.level = 'district'
"""
_KEYS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "agency_responsible",
         "requested_datetime", "updated_datetime", "expected_datetime", "address", "lat", "long", "last_from")


#: A request's fields in the order of the spec's examples (XML clients may read them in order).
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")


def _request(row) -> dict:
    got = dict(zip(_KEYS, row))
    if got["status"] == CLOSED and got["last_from"] == NOT_FILED[0]:  # 不予立案: not a case closed after handling
        reason = got["status_notes"]
        got["status_notes"] = f"{NOT_TAKEN_UP_NOTE}: {reason}" if reason else NOT_TAKEN_UP_NOTE
    got["status"] = "closed" if got["status"] == CLOSED else "open"
    got["long"], got["lat"] = public_point(got["long"], got["lat"])  # about a metre: the public's precision
    for k in ("requested_datetime", "updated_datetime", "expected_datetime"):
        got[k] = got[k].isoformat() if got[k] is not None else None
    # Not given: the description (personal data here), a notice, address ids, postcodes.
    return {k: got.get(k) for k in REQUEST_FIELDS}


def find_requests(conn, *, ids: list[str] | None = None, codes: list[str] | None = None,
                  since: datetime | None = None, until: datetime | None = None, statuses: list[str] | None = None,
                  limit: int = 1000, base: str = "") -> list[dict]:
    """Service requests by tracking numbers (any report, joined ones too), else by the spec's filters.

    Without ``ids``: cases opened by a public report, of the ``codes`` (service codes), requested in
    [since, until), with ``statuses`` among open/closed, newest first, at most ``limit``. ``media_url`` is
    the first photo its tracking page shows, ``base`` (the server's base URL) before its path.
    """
    clauses, params = [], {"closed": CLOSED, "limit": limit}
    if ids:
        clauses.append("r.tracking = ANY(%(ids)s)")
        params["ids"] = ids
    else:
        clauses.append("NOT r.joined")
        if codes:
            clauses.append("coalesce(e.code, e.name) = ANY(%(codes)s)")
            params["codes"] = codes
        if since:
            clauses.append("c.reported_at >= %(since)s")
            params["since"] = since
        if until:
            clauses.append("c.reported_at < %(until)s")
            params["until"] = until
        if statuses and set(statuses) != {"open", "closed"}:
            clauses.append("c.status = %(closed)s" if statuses == ["closed"] else "c.status <> %(closed)s")
    with conn.cursor() as cur:
        cur.execute(_REQUEST_SQL + " WHERE " + " AND ".join(clauses)
                    + " ORDER BY c.reported_at DESC, r.tracking LIMIT %(limit)s", params)
        found = [_request(r) for r in cur.fetchall()]
    photos = public_photos.first_photos(conn, [r["service_request_id"] for r in found])
    for r in found:
        r["media_url"] = base + photos[r["service_request_id"]] if r["service_request_id"] in photos else None
    return found
