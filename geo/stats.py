"""Local spatial statistics written from their published formulas.

Getis–Ord Gi* (Ord & Getis 1995, eq. for the "star" statistic that includes
the cell itself), the Benjamini–Hochberg false-discovery-rate cut-off
(Benjamini & Hochberg 1995, as used by ArcGIS "Optimized Hot Spot Analysis"
and PySAL ``esda.fdr``) and the Mann–Kendall trend test with the tie
correction (Kendall 1975). Pure numpy/scipy: no database, no web.
"""

from __future__ import annotations

import numpy as np

# The normal tail straight from scipy.special (what scipy.stats.norm.sf computes, ndtr(-z)): importing
# scipy.stats costs a command such as `report bulletin` 1–4 s before any work.
from scipy.special import ndtr

#: Confidence levels of the bins ±3/±2/±1, as in ArcGIS hot spot analysis.
CONFIDENCE_LEVELS = ((3, 0.99), (2, 0.95), (1, 0.90))


def gi_star(values: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Getis–Ord Gi* z-scores with binary weights, the cell itself included.

    Parameters
    ----------
    values : ndarray of shape (n,)
        The attribute per cell (counts, or rates).
    neighbours : ndarray of shape (n, k) of int
        Index of each cell's neighbours, padded with -1 where a cell has fewer
        than k (edge of the study area). The cell itself must not be listed:
        it is added here (that is the "star").

    Returns
    -------
    ndarray of shape (n,)
        z_i = (Σ_j w_ij x_j − x̄ W_i) / (S √((n S1_i − W_i²) / (n − 1))), with
        w_ij ∈ {0, 1}, W_i = Σ_j w_ij, S1_i = Σ_j w_ij² (= W_i for binary
        weights), x̄ the mean and S the population standard deviation of x.

    Notes
    -----
    The statistic is undefined when every value is equal (S = 0); that case
    raises ``ValueError`` so the caller can say why.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    nb = np.asarray(neighbours)
    if nb.ndim != 2 or nb.shape[0] != n:
        raise ValueError("neighbours must have one row per value")
    mean = x.mean()
    s = np.sqrt((x**2).mean() - mean**2)
    if not s > 0:
        raise ValueError("Gi* is undefined when every cell has the same value")
    valid = nb >= 0
    neighbour_sum = np.where(valid, x[np.where(valid, nb, 0)], 0.0).sum(axis=1) + x
    weight_sum = valid.sum(axis=1) + 1.0  # W_i, self included
    numerator = neighbour_sum - mean * weight_sum
    denominator = s * np.sqrt((n * weight_sum - weight_sum**2) / (n - 1))
    return numerator / denominator


def lone_gi_star(values: np.ndarray, weight: int = 7) -> float:
    """The Gi* z-score (as :func:`gi_star`) a cell would get holding 1 with its ``weight`` − 1 neighbours at 0.

    Under the mean and standard deviation of ``values``: how far one complaint with none around it stands out.
    Where it reaches the hot spots' z-scores the data are too sparse for the cells: every complaint is a hot spot.
    """
    x = np.asarray(values, dtype=float)
    n, mean = x.size, x.mean()
    s = np.sqrt((x**2).mean() - mean**2)
    if n < 2 or not s > 0:
        return 0.0
    return float((1.0 - mean * weight) / (s * np.sqrt((n * weight - weight**2) / (n - 1))))


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided p-value of standard normal z-scores."""
    return 2.0 * ndtr(-np.abs(np.asarray(z, dtype=float)))


def fdr_cutoff(pvalues: np.ndarray, alpha: float) -> float:
    """Benjamini–Hochberg p-value cut-off: reject where p < cut-off.

    Parameters
    ----------
    pvalues : ndarray
        One p-value per test.
    alpha : float
        The false discovery rate to control (0.01, 0.05, 0.10).

    Returns
    -------
    float
        k·alpha/n for the largest k with p_(k) < k·alpha/n; when there is no
        such k, alpha/n (the Bonferroni bound, which then rejects nothing
        either, since even the smallest p-value is at least alpha/n).
    """
    p = np.sort(np.asarray(pvalues, dtype=float))
    n = p.size
    if n == 0:
        return alpha
    thresholds = np.arange(1, n + 1) * alpha / n
    passing = np.nonzero(p < thresholds)[0]
    if passing.size == 0:
        return alpha / n
    return float(thresholds[passing[-1]])


def confidence_bins(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Hot/cold spot bins ±3/±2/±1 (99/95/90 % confidence after the FDR correction), 0 otherwise."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    bins = np.zeros(z.size, dtype=np.int8)
    for level, confidence in reversed(CONFIDENCE_LEVELS):  # 90 % first, 99 % last so the strongest wins
        significant = p < fdr_cutoff(p, 1.0 - confidence)
        bins[significant] = level
    return (bins * np.sign(z)).astype(np.int8)


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann–Kendall trend test for each row of a 2-D array (one series per row).

    Parameters
    ----------
    series : ndarray of shape (m, t)
        m series of t time steps each.

    Returns
    -------
    s, z, p : ndarray of shape (m,)
        S = Σ_{i<j} sign(x_j − x_i); z = (S − sign(S)) / √Var(S) with
        Var(S) = [t(t−1)(2t+5) − Σ_g u_g(u_g−1)(2u_g+5)] / 18 over groups of
        tied values of size u_g; two-sided p. A constant series has z = 0, p = 1.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    m, t = x.shape
    # S summed lag by lag: every calendar month is a step now (years of them), and all t(t−1)/2 pairs at once
    # would hold cells × pairs floats (gigabytes for a city of 100 m hexagons over ten years).
    s = np.zeros(m)
    for lag in range(1, t):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    var = np.full(m, t * (t - 1) * (2 * t + 5), dtype=float)
    ordered = np.sort(x, axis=1)
    # Tie groups: runs of equal values in each sorted row.
    for row in range(m):
        _, sizes = np.unique(ordered[row], return_counts=True)
        tied = sizes[sizes > 1]
        var[row] -= (tied * (tied - 1) * (2 * tied + 5)).sum()
    var /= 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    p = 2.0 * ndtr(-np.abs(z))
    return s, z, p
