"""The public channel's challenges (issue 17): a proof-of-work challenge per report, then the report's key.

A client asks for a single-use challenge, solves it with its own CPU (no third
party: the server may have no internet) and sends it with its report. Once
spent, the challenge stays with the report as its **key**: only the client
that made the report holds it. The tracking number is printed, shared and
listed by Open311 (``service_request_id``), so it only lets one follow the
case; adding photos, reading one's own description and rating the closing
need the key (the report page hands it to the tracking page in the link's
``#k=`` fragment, which browsers never send to a server).
"""

from __future__ import annotations

import hashlib
import secrets

from data.errors import InvalidParameter
from data.settings import PublicSettings

# -- Proof of work: a challenge the server issued, solved by the client's CPU (no third party) ------------------


def pow_ok(challenge: str, nonce: str, bits: int) -> bool:
    """Whether SHA-256 of ``challenge:nonce`` (UTF-8) starts with ``bits`` zero bits."""
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    return int.from_bytes(digest, "big") >> (256 - bits) == 0 if bits else True


def solve(challenge: str, bits: int) -> str:
    """The first decimal nonce that solves ``challenge`` (what the report page's script does)."""
    n = 0
    while not pow_ok(challenge, str(n), bits):
        n += 1
    return str(n)


def issue_challenge(conn, settings: PublicSettings) -> dict:
    """A new single-use challenge with the current difficulty; expired ones are swept on the way."""
    challenge = secrets.token_urlsafe(18)
    with conn.cursor() as cur:
        # A spent challenge is its report's key (photos, the description, the rating): only unspent ones go.
        cur.execute("DELETE FROM public_challenges WHERE expires_at < now() AND tracking IS NULL")
        cur.execute("INSERT INTO public_challenges (challenge, bits, expires_at) "
                    "VALUES (%s, %s, now() + make_interval(mins => %s)) RETURNING expires_at",
                    (challenge, settings.pow_bits, settings.challenge_minutes))
        expires = cur.fetchone()[0]
    return {"challenge": challenge, "bits": settings.pow_bits, "expires_at": expires.isoformat(),
            "rule": "find a nonce such that sha256(challenge + ':' + nonce) starts with `bits` zero bits"}


def spend_challenge(conn, challenge: str | None, nonce: str | None, settings: PublicSettings,
                    fingerprint: str) -> str | None:
    """Check a solved challenge for a report whose body has ``fingerprint``; the tracking number of a replay.

    None: the challenge is fresh and solved, file the report and :func:`mark_challenge`. A tracking
    number: this very report was filed with this challenge already (its answer was lost), answer it
    again. InvalidParameter when the challenge is unknown, expired, used for another report or not solved.
    """
    if settings.pow_bits == 0:
        return None
    with conn.cursor() as cur:
        cur.execute("SELECT bits, tracking, fingerprint FROM public_challenges "
                    "WHERE challenge = %s AND expires_at > now() FOR UPDATE", (challenge or "",))
        row = cur.fetchone()
    if row is None:
        raise InvalidParameter("challenge", "unknown or expired: get a new one from GET /api/public/challenge",
                               "不存在或已过期：请用 GET /api/public/challenge 重新获取")
    bits, tracking, used_for = row
    if not pow_ok(challenge, nonce or "", bits):
        raise InvalidParameter("nonce", f"sha256(challenge:nonce) must start with {bits} zero bits",
                               f"sha256(challenge:nonce) 须以 {bits} 个 0 比特开头")
    if tracking is not None and used_for != fingerprint:
        raise InvalidParameter("challenge", "already used for another report: get a new one from "
                                            "GET /api/public/challenge",
                               "已用于另一条反映：请用 GET /api/public/challenge 重新获取")
    return tracking


def mark_challenge(conn, challenge: str | None, tracking: str, fingerprint: str) -> None:
    """Remember which report a challenge served (a no-op when proof-of-work is off)."""
    with conn.cursor() as cur:
        cur.execute("UPDATE public_challenges SET tracking = %s, fingerprint = %s WHERE challenge = %s",
                    (tracking, fingerprint, challenge or ""))


def holds_key(conn, tracking: str, key: str | None) -> bool:
    """Whether ``key`` is the key of the report ``tracking`` (as stored): the challenge it was made with."""
    if not key:
        return False
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM public_challenges WHERE challenge = %s AND tracking = %s)",
                    (key, tracking))
        return cur.fetchone()[0]
