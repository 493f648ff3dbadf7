"""Sequential requests on one kept-alive connection to a running server: the median per request.

    .venv/bin/hygiene-map serve --port 18731 --workers 2 &
    .venv/bin/python bench/bench_keepalive.py 18731 /healthz "/api/layers/toilets/features?limit=300"

Shows the ~40 ms Nagle/delayed-ACK stall a multi-worker server had when its accepted sockets lacked
TCP_NODELAY (bench/RESULTS.md, web maps, issue 18). Run it against the code before and after a change.
"""

from __future__ import annotations

import http.client
import statistics
import sys
import time


def median_ms(port: int, path: str, requests: int = 40, warm: int = 5) -> tuple[int, int, float]:
    """Status, body size and the median milliseconds of ``requests`` GETs on one connection (first ``warm`` dropped)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        times.append(time.perf_counter() - started)
    conn.close()
    return response.status, len(body), 1000 * statistics.median(times[warm:])


def main() -> None:
    port = int(sys.argv[1])
    for path in sys.argv[2:]:
        status, size, ms = median_ms(port, path)
        print(f"{path}\t{status}\t{size} bytes\tmedian {ms:.1f} ms")


if __name__ == "__main__":
    main()
