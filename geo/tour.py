"""Short walking orders through a few stops (inspection routes).

An open path (the walk need not return to its start) through at most a few
dozen stops: nearest-neighbour construction from every possible start, each
improved by 2-opt segment reversals, and the shortest result kept. Distances
are straight lines in a metric CRS.
"""

from __future__ import annotations

import numpy as np


def path_length(xy: np.ndarray, order: np.ndarray) -> float:
    """Length of the open path visiting ``xy[order]`` in that order.

    Parameters
    ----------
    xy : ndarray of shape (n, 2)
        Stop coordinates in metres.
    order : ndarray of int
        A permutation of ``range(n)``.

    Returns
    -------
    float
        Sum of the straight-line legs, in metres.
    """
    pts = xy[order]
    return float(np.hypot(*np.diff(pts, axis=0).T).sum()) if len(pts) > 1 else 0.0


def _nearest_neighbour(dist: np.ndarray, start: int) -> list[int]:
    n = len(dist)
    seen = np.zeros(n, dtype=bool)
    order = [start]
    seen[start] = True
    for _ in range(n - 1):
        d = np.where(seen, np.inf, dist[order[-1]])
        nxt = int(np.argmin(d))
        order.append(nxt)
        seen[nxt] = True
    return order


def _two_opt(dist: np.ndarray, order: list[int]) -> list[int]:
    """Reverse segments while that shortens the open path (first improvement, until none)."""
    n = len(order)
    improved = True
    while improved:
        improved = False
        for i in range(n - 1):
            for j in range(i + 1, n):
                a, b = order[i], order[j]
                before = dist[order[i - 1], a] if i > 0 else 0.0
                after = dist[b, order[j + 1]] if j < n - 1 else 0.0
                new_before = dist[order[i - 1], b] if i > 0 else 0.0
                new_after = dist[a, order[j + 1]] if j < n - 1 else 0.0
                if new_before + new_after < before + after - 1e-9:
                    order[i:j + 1] = order[i:j + 1][::-1]
                    improved = True
    return order


def open_tour(xy: np.ndarray) -> np.ndarray:
    """A short order to walk through every stop once, without returning.

    Parameters
    ----------
    xy : ndarray of shape (n, 2)
        Stop coordinates in a metric CRS.

    Returns
    -------
    ndarray of int
        The visiting order (a permutation of ``range(n)``). Among the
        nearest-neighbour paths from every start, each improved by 2-opt,
        the shortest; ties go to the lower start index, so the result is
        deterministic.

    Notes
    -----
    Nearest neighbour alone is typically 20–25 % above optimal on random
    points; 2-opt brings it to within about 5 %. For the few dozen stops of
    an inspection route this costs milliseconds.
    """
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    if n <= 2:
        return np.arange(n)
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    best, best_len = None, np.inf
    for start in range(n):
        order = _two_opt(dist, _nearest_neighbour(dist, start))
        length = float(sum(dist[order[k], order[k + 1]] for k in range(n - 1)))
        if length < best_len - 1e-9:
            best, best_len = order, length
    return np.array(best)
