"""Settings: every setting of hygiene-map, in small classes read from the environment on demand.

Nothing is read at import time, so tests and commands can set the
environment first. Limits are named settings, not literals in code. Each
setting is declared once, as a dataclass field naming its variable and
default (:func:`setting`); :meth:`EnvSettings.from_env` reads them all and
then lets the class check how they fit together (``check``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from data.envvars import EnvSettings, check_paging, check_positive, env_int, env_str, setting
from data.errors import SetupError
from data.vocab import BASEMAPS


def default_home() -> Path:
    """Where the embedded cluster lives when HYGIENE_MAP_HOME is not set.

    As root the cluster runs as an unprivileged OS user who cannot enter
    /root, so root gets a system path instead of a home directory.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/hygiene-map")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hygiene-map"


def hygiene_home(env: Mapping[str, str] | None = None) -> Path:
    """The project's own directory: HYGIENE_MAP_HOME, else :func:`default_home` (the embedded cluster's, and the
    rejects files kept out of a read-only data folder)."""
    env = os.environ if env is None else env
    home = env_str(env, "HYGIENE_MAP_HOME", None)
    return Path(home).expanduser().absolute() if home else default_home()


@dataclass(frozen=True)
class DatabaseSettings:
    """How to reach the database: DATABASE_URL, or the embedded cluster."""

    url: str | None
    home: Path
    pg_bindir: Path | None
    port: int | None
    os_user: str
    connect_timeout_s: int
    statement_timeout_ms: int
    pool_max: int
    pool_wait_s: int
    # Asynchronous connections per server process for anonymous tiles (data.db_async), besides pool_max.
    async_max: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DatabaseSettings:
        env = os.environ if env is None else env
        bindir = env_str(env, "HYGIENE_MAP_PG_BINDIR", None)
        return cls(
            url=env_str(env, "DATABASE_URL", None),
            home=hygiene_home(env),
            pg_bindir=Path(bindir) if bindir else None,
            port=env_int(env, "HYGIENE_MAP_DB_PORT", 0) or None,
            os_user=env_str(env, "HYGIENE_MAP_DB_OS_USER", "hygienemap"),
            connect_timeout_s=env_int(env, "HYGIENE_MAP_DB_CONNECT_TIMEOUT_S", 2),
            statement_timeout_ms=env_int(env, "HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS", 30_000),
            pool_max=env_int(env, "HYGIENE_MAP_DB_POOL_MAX", 24),
            pool_wait_s=env_int(env, "HYGIENE_MAP_DB_POOL_WAIT_S", 20),
            async_max=env_int(env, "HYGIENE_MAP_DB_ASYNC_MAX", 8),
        )


@dataclass(frozen=True)
class GridSettings(EnvSettings):
    """Grid codes (STANDARDS §4): 12-digit community code + a sequence of this width."""

    sequence_width: int = setting("HYGIENE_MAP_GRID_SEQ_WIDTH", 2)

    def check(self) -> None:
        if self.sequence_width not in (2, 3):
            raise SetupError(f"HYGIENE_MAP_GRID_SEQ_WIDTH must be 2 (CJ/T 213) or 3 (DB11/T 2157), "
                             f"not {self.sequence_width}",
                             f"HYGIENE_MAP_GRID_SEQ_WIDTH 应为 2（CJ/T 213）或 3（DB11/T 2157），而不是 {self.sequence_width}")


@dataclass(frozen=True)
class ServerSettings(EnvSettings):
    """Request limits and logging of the HTTP server."""

    max_body_bytes: int = setting("HYGIENE_MAP_MAX_BODY_BYTES", 1_048_576)
    log_requests: bool = setting("HYGIENE_MAP_LOG_REQUESTS", True)


@dataclass(frozen=True)
class AuthSettings(EnvSettings):
    """Whether reading needs a token (writes always do)."""

    reads_need_token: bool = setting("HYGIENE_MAP_READS_NEED_TOKEN", False)


@dataclass(frozen=True)
class FeatureSettings(EnvSettings):
    """Paging limits of /api/layers/{id}/features."""

    default_limit: int = setting("HYGIENE_MAP_FEATURES_LIMIT_DEFAULT", 1_000)
    max_limit: int = setting("HYGIENE_MAP_FEATURES_LIMIT_MAX", 10_000)

    def check(self) -> None:
        check_paging(self, "default_limit", "max_limit")


@dataclass(frozen=True)
class OgcSettings(EnvSettings):
    """Paging of /ogc/collections/{id}/items: default page size and the cap a larger limit is cut to."""

    default_limit: int = setting("HYGIENE_MAP_OGC_LIMIT_DEFAULT", 100)
    max_limit: int = setting("HYGIENE_MAP_OGC_LIMIT_MAX", 10_000)

    def check(self) -> None:
        check_paging(self, "default_limit", "max_limit")


@dataclass(frozen=True)
class TileSettings(EnvSettings):
    """Vector tiles and heatmaps: zoom range, feature and size caps, heatmap extent, client cache time."""

    max_zoom: int = setting("HYGIENE_MAP_TILE_MAX_ZOOM", 22)
    max_features: int = setting("HYGIENE_MAP_TILE_MAX_FEATURES", 20_000)  # per tile, before the size guard
    max_bytes: int = setting("HYGIENE_MAP_TILE_MAX_BYTES", 500 * 1024)  # features are capped until it fits
    cache_max_age_s: int = setting("HYGIENE_MAP_TILE_CACHE_S", 300)
    # a heatmap bbox is at most this many screen pixels wide and high at its zoom
    heat_max_px: int = setting("HYGIENE_MAP_HEAT_MAX_PX", 8192)
    extent: int = 4096  # MVT tile extent (pixels of the tile's grid), fixed by the format's practice


@dataclass(frozen=True)
class MapSettings(EnvSettings):
    """The web map's basemap (none | osm | tianditu | gaode) and the Tianditu key."""

    basemap: str = setting("HYGIENE_MAP_BASEMAP", "none")
    tianditu_key: str | None = setting("HYGIENE_MAP_TIANDITU_KEY", None, str)

    def check(self) -> None:
        if self.basemap not in BASEMAPS:
            raise SetupError(f"HYGIENE_MAP_BASEMAP must be one of {', '.join(BASEMAPS)}, not {self.basemap!r}",
                             f"HYGIENE_MAP_BASEMAP 应为 {'、'.join(BASEMAPS)} 之一，而不是 {self.basemap!r}")
        if self.basemap == "tianditu" and not self.tianditu_key:
            raise SetupError("HYGIENE_MAP_BASEMAP=tianditu needs HYGIENE_MAP_TIANDITU_KEY (a Tianditu 'tk' key)",
                             "HYGIENE_MAP_BASEMAP=tianditu 需要设置 HYGIENE_MAP_TIANDITU_KEY（天地图的 tk 密钥）")


@dataclass(frozen=True)
class AnalysisSettings(EnvSettings):
    """How large an analysis request may grow before it is refused with a clear parameter error."""

    hotspot_max_cells: int = setting("HYGIENE_MAP_HOTSPOT_MAX_CELLS", 200_000)  # hexagons in one study area
    siting_max_add: int = setting("HYGIENE_MAP_SITING_MAX_ADD", 200)  # greedy rounds, each a full pass
    hotspot_kept_grids: int = setting("HYGIENE_MAP_HOTSPOT_KEPT_GRIDS", 4)  # hexagon sizes whose counts are kept


@dataclass(frozen=True)
class CacheSettings(EnvSettings):
    """How many analysis answers, and how many megabytes of them, one server process keeps (0 entries: none)."""

    max_entries: int = setting("HYGIENE_MAP_ANALYSIS_CACHE_ENTRIES", 64)
    max_bytes: int = setting("HYGIENE_MAP_ANALYSIS_CACHE_MB", 256, scale=1024 * 1024)


@dataclass(frozen=True)
class ComplaintSettings(EnvSettings):
    """Limits of complaint handling: duplicate search and paging."""

    duplicate_radius_m: float = setting("HYGIENE_MAP_DUPLICATE_RADIUS_M", 50.0)
    duplicate_days: int = setting("HYGIENE_MAP_DUPLICATE_DAYS", 7)
    page_default: int = setting("HYGIENE_MAP_COMPLAINTS_PAGE", 100)
    page_max: int = setting("HYGIENE_MAP_COMPLAINTS_PAGE_MAX", 1000)

    def check(self) -> None:
        check_paging(self, "page_default", "page_max")


@dataclass(frozen=True)
class ImportSettings(EnvSettings):
    """Limits on what an import will read."""

    max_file_mb: int = setting("HYGIENE_MAP_IMPORT_MAX_FILE_MB", 2048)
    max_unzipped_mb: int = setting("HYGIENE_MAP_IMPORT_MAX_UNZIPPED_MB", 4096)
    max_zip_ratio: int = setting("HYGIENE_MAP_IMPORT_MAX_ZIP_RATIO", 200)
    # A million-row upsert outlasts the per-request time-out of the server.
    statement_timeout_ms: int = setting("HYGIENE_MAP_IMPORT_STATEMENT_TIMEOUT_MS", 1_800_000)
    # From this many rows (and at least as many as the table holds), the secondary
    # indexes are dropped and rebuilt in the import's transaction: building a GiST
    # once is several times faster than a million inserts into it.
    rebuild_index_rows: int = setting("HYGIENE_MAP_IMPORT_REBUILD_INDEX_ROWS", 200_000)
    # Rows read, checked and sent to COPY at a time: the memory of an import is about that of one chunk.
    chunk_rows: int = setting("HYGIENE_MAP_IMPORT_CHUNK_ROWS", 50_000)

    def check(self) -> None:
        check_positive(HYGIENE_MAP_IMPORT_CHUNK_ROWS=self.chunk_rows)


@dataclass(frozen=True)
class PrintSettings(EnvSettings):
    """Which font is embedded, and the limits of a print job (where QR codes point: LinkSettings)."""

    font_path: str | None = setting("HYGIENE_MAP_PRINT_FONT", None, str)  # None: first of FONT_CANDIDATES
    max_pages_http: int = setting("HYGIENE_MAP_PRINT_MAX_PAGES", 250)  # longer atlases: use the CLI
    route_max_stops: int = setting("HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS", 40)  # --top is at most this
    workers: int = setting("HYGIENE_MAP_PRINT_WORKERS", lambda: min(4, os.cpu_count() or 1))

    def check(self) -> None:
        check_positive(HYGIENE_MAP_PRINT_MAX_PAGES=self.max_pages_http, HYGIENE_MAP_PRINT_WORKERS=self.workers)
        if self.route_max_stops < 2:
            raise SetupError("HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS must be at least 2",
                             "HYGIENE_MAP_PRINT_ROUTE_MAX_STOPS 至少应为 2")


@dataclass(frozen=True)
class IdempotencySettings(EnvSettings):
    """How long a write's ``Idempotency-Key`` and first answer are kept (the policy the draft asks to publish)."""

    ttl_hours: int = setting("HYGIENE_MAP_IDEMPOTENCY_TTL_HOURS", 24)

    def check(self) -> None:
        check_positive(HYGIENE_MAP_IDEMPOTENCY_TTL_HOURS=self.ttl_hours)


@dataclass(frozen=True)
class AccessSettings(EnvSettings):
    """Who reads what (issue 14). Grid contacts (manager's name and phone) are private by default:
    a phone number is personal data, and a city that posts them on 网格公示牌 says so with =1."""

    grid_contacts_public: bool = setting("HYGIENE_MAP_GRID_CONTACTS_PUBLIC", False)
    session_hours: int = setting("HYGIENE_MAP_SESSION_HOURS", 12)  # a page login lasts this long
    costly_per_client: int = setting("HYGIENE_MAP_COSTLY_PER_CLIENT", 1)  # costly requests at once, per client
    costly_total: int = setting("HYGIENE_MAP_COSTLY_TOTAL", 2)  # costly requests at once, all clients
    costly_retry_after_s: int = setting("HYGIENE_MAP_COSTLY_RETRY_AFTER_S", 10)

    def check(self) -> None:
        check_positive(HYGIENE_MAP_SESSION_HOURS=self.session_hours, HYGIENE_MAP_COSTLY_PER_CLIENT=self.costly_per_client,
                       HYGIENE_MAP_COSTLY_TOTAL=self.costly_total, HYGIENE_MAP_COSTLY_RETRY_AFTER_S=self.costly_retry_after_s)


#: Where links and QR codes point when nothing else says (the default address of ``hygiene-map serve``).
LOCAL_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class LinkSettings(EnvSettings):
    """The public base URL of every absolute link and QR code, and which Host / proxy headers to believe.

    ``public_url`` set: every link uses it. Otherwise a request's own base URL,
    with its ``Host`` accepted only when the host is one of ``allowed_hosts``
    (always localhost, 127.0.0.1, ::1 and the address the server listens on)
    and ``X-Forwarded-*`` / ``Forwarded`` read only from ``trusted_proxies``.
    """

    public_url: str | None = setting("HYGIENE_MAP_PUBLIC_URL", None, str)
    allowed_hosts: str | None = setting("HYGIENE_MAP_ALLOWED_HOSTS", None, str)  # comma-separated host names
    trusted_proxies: str | None = setting("HYGIENE_MAP_TRUSTED_PROXIES", None, str)  # comma-separated IPs / CIDRs

    def check(self) -> None:
        import ipaddress

        if self.public_url is not None:
            if not self.public_url.startswith(("http://", "https://")):
                raise SetupError(f"HYGIENE_MAP_PUBLIC_URL={self.public_url!r} must start with http:// or https://",
                                 f"HYGIENE_MAP_PUBLIC_URL={self.public_url!r} 应以 http:// 或 https:// 开头")
            object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        for raw in self.proxy_list():
            try:
                ipaddress.ip_network(raw, strict=False)
            except ValueError:
                raise SetupError(f"HYGIENE_MAP_TRUSTED_PROXIES: {raw!r} is not an IP address or network",
                                 f"HYGIENE_MAP_TRUSTED_PROXIES：{raw!r} 不是 IP 地址或网段") from None

    def host_list(self) -> frozenset[str]:
        """The host names a request's Host may carry (lower case, IPv6 without brackets)."""
        extra = [h.strip().lower().strip("[]") for h in (self.allowed_hosts or "").split(",") if h.strip()]
        return frozenset({"localhost", "127.0.0.1", "::1", *extra})

    def proxy_list(self) -> list[str]:
        """The trusted proxies as written (IP addresses or networks)."""
        return [p.strip() for p in (self.trusted_proxies or "").split(",") if p.strip()]

    def fallback_url(self) -> str:
        """The base URL without a request (the CLI): HYGIENE_MAP_PUBLIC_URL, else the local default."""
        return self.public_url or LOCAL_URL


@dataclass(frozen=True)
class InspectionSettings(EnvSettings):
    """明察暗访 (issue 15): the city's own checklist file and the score a street or unit starts a round with."""

    checklist_file: str | None = setting("HYGIENE_MAP_CHECKLIST_FILE", None, str)  # rows overriding / adding items
    score_base: float = setting("HYGIENE_MAP_INSPECTION_SCORE_BASE", 100.0)  # minus the round's deductions
    photo_dir: str | None = setting("HYGIENE_MAP_PHOTO_DIR", None, str)  # None: <HYGIENE_MAP_HOME>/photos
    # Phones resize before sending (issue 15); the request body limit (HYGIENE_MAP_MAX_BODY_BYTES) also applies.
    photo_max_bytes: int = setting("HYGIENE_MAP_PHOTO_MAX_KB", 1000, scale=1000)
    photo_max_pixels: int = setting("HYGIENE_MAP_PHOTO_MAX_MEGAPIXELS", 40, scale=1_000_000)

    def check(self) -> None:
        if self.score_base <= 0:
            raise SetupError("HYGIENE_MAP_INSPECTION_SCORE_BASE must be above 0", "HYGIENE_MAP_INSPECTION_SCORE_BASE 应大于 0")
        check_positive(HYGIENE_MAP_PHOTO_MAX_KB=self.photo_max_bytes, HYGIENE_MAP_PHOTO_MAX_MEGAPIXELS=self.photo_max_pixels)

    def photo_root(self) -> Path:
        """Where photos are stored, by content hash: the setting, else ``photos`` under the data home."""
        return Path(self.photo_dir).expanduser().absolute() if self.photo_dir else \
            DatabaseSettings.from_env().home / "photos"


@dataclass(frozen=True)
class PublicSettings(EnvSettings):
    """The public channel (issue 17): open or closed, its proof-of-work and its per-client limits.

    The channel answers without an account even when reads need a token (a
    resident has none); a server that must not take reports from the public
    closes it with ``HYGIENE_MAP_PUBLIC_CHANNEL=0``.
    """

    channel_open: bool = setting("HYGIENE_MAP_PUBLIC_CHANNEL", True)
    pow_bits: int = setting("HYGIENE_MAP_PUBLIC_POW_BITS", 18)  # leading zero bits of sha256(challenge:nonce)
    challenge_minutes: int = setting("HYGIENE_MAP_PUBLIC_CHALLENGE_MINUTES", 15)  # a challenge is good this long
    # Reports and ratings per client address and hour. Counted per address, not per solved challenge (a flooder
    # solves as many challenges as it has CPU: the proof-of-work slows floods, it does not cap them); but one
    # address is often a whole neighbourhood (carrier-grade NAT on mobile networks, an estate's Wi-Fi), so the
    # default lets a busy neighbourhood report about once a minute, and a refused resident is told of the hotline.
    reports_per_hour: int = setting("HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR", 60)
    reads_per_minute: int = setting("HYGIENE_MAP_PUBLIC_READS_PER_MINUTE", 60)  # tracking, nearby, challenges
    rating_days: int = setting("HYGIENE_MAP_PUBLIC_RATING_DAYS", 7)  # a closing is rated within this many days
    photo_minutes: int = setting("HYGIENE_MAP_PUBLIC_PHOTO_MINUTES", 30)  # a report takes its photos this long
    # The tracking page asks again this often while shown (and at once when shown again): a case moves in hours,
    # and phones behind one carrier address share reads_per_minute.
    follow_seconds: int = setting("HYGIENE_MAP_PUBLIC_FOLLOW_SECONDS", 60)
    # The other channel a resident refused by the limit is pointed to (the city's hotline: 1823 in Hong Kong).
    hotline: str = setting("HYGIENE_MAP_PUBLIC_HOTLINE", "12345")

    def check(self) -> None:
        check_positive(HYGIENE_MAP_PUBLIC_CHALLENGE_MINUTES=self.challenge_minutes,
                       HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR=self.reports_per_hour,
                       HYGIENE_MAP_PUBLIC_READS_PER_MINUTE=self.reads_per_minute,
                       HYGIENE_MAP_PUBLIC_RATING_DAYS=self.rating_days,
                       HYGIENE_MAP_PUBLIC_PHOTO_MINUTES=self.photo_minutes,
                       HYGIENE_MAP_PUBLIC_FOLLOW_SECONDS=self.follow_seconds)
        if not 0 <= self.pow_bits <= 32:
            raise SetupError(f"HYGIENE_MAP_PUBLIC_POW_BITS must be between 0 and 32, not {self.pow_bits}",
                             f"HYGIENE_MAP_PUBLIC_POW_BITS 应在 0 到 32 之间，而不是 {self.pow_bits}")
