"""Gi*, FDR bins and Mann–Kendall against the references users trust (PySAL esda, pymannkendall),
and the SQL hexagon binning against point-in-polygon."""

from __future__ import annotations

import json
from datetime import UTC

import numpy as np
import pytest

esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")
pymannkendall = pytest.importorskip("pymannkendall")

from geo import hexgrid  # noqa: E402
from geo.hotspots import classify_emerging, hotspots  # noqa: E402
from geo.stats import confidence_bins, fdr_cutoff, gi_star, mann_kendall, two_sided_p  # noqa: E402


def _rook(q: np.ndarray, r: np.ndarray):
    """libpysal binary weights from the same neighbour lists, built independently of our index."""
    where = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(q, r))}
    neighbours = {}
    for i, (a, b) in enumerate(zip(q, r)):
        neighbours[i] = [where[(a + dq, b + dr)] for dq, dr in hexgrid.NEIGHBOUR_OFFSETS if (a + dq, b + dr) in where]
    return libpysal.weights.W(neighbours, silence_warnings=True)


def _esda_bins(z, p):
    bins = np.zeros(z.size, dtype=int)
    for level, conf in ((1, 0.90), (2, 0.95), (3, 0.99)):
        bins[p < esda.fdr(p, 1 - conf)] = level
    return bins * np.sign(z).astype(int)


def test_gi_star_equals_esda_on_random_counts():
    rng = np.random.default_rng(7)
    q, r = np.meshgrid(np.arange(30), np.arange(20))
    q, r = q.ravel(), r.ravel()
    counts = rng.poisson(np.where((q - 10) ** 2 + (r - 8) ** 2 < 12, 9, 2)).astype(float)
    z = gi_star(counts, hexgrid.neighbour_index(q, r))
    ref = esda.G_Local(counts, _rook(q, r), transform="B", star=True, permutations=0)
    np.testing.assert_allclose(z, ref.Zs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(two_sided_p(z), 2 * ref.p_norm, rtol=0, atol=1e-12)


def test_gi_star_rejects_constant_values():
    with pytest.raises(ValueError, match="same value"):
        gi_star(np.ones(10), hexgrid.neighbour_index(np.arange(10), np.zeros(10, dtype=int)))


def test_fdr_cutoff_equals_esda():
    rng = np.random.default_rng(3)
    for p in (rng.uniform(size=500), np.concatenate([rng.uniform(0, 1e-3, 40), rng.uniform(size=400)]),
              np.full(50, 0.5)):
        for alpha in (0.01, 0.05, 0.10):
            assert fdr_cutoff(p, alpha) == pytest.approx(esda.fdr(p, alpha), rel=1e-15)


def test_hotspots_on_demo_equal_esda(demo_conn):
    res = hotspots(demo_conn, cell_m=150)
    assert res.count.sum() == 6_000  # every demo complaint is in a city cell
    assert (res.count == 0).sum() > 0, "zero cells must be part of the study area"
    ref = esda.G_Local(res.count.astype(float), _rook(res.q, res.r), transform="B", star=True, permutations=0)
    np.testing.assert_allclose(res.gi_z, ref.Zs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.gi_p, 2 * ref.p_norm, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.gi_bin, _esda_bins(ref.Zs, 2 * ref.p_norm))
    assert (res.gi_bin == 3).sum() > 0, "the demo city has real hotspots"


def test_hex_binning_matches_point_in_polygon(demo_conn):
    """Each complaint is counted in the hexagon polygon that contains it (checked by PostGIS)."""
    res = hotspots(demo_conn, cell_m=200)
    polys = [json.dumps(json.loads(g)) for g in res.geojson]
    with demo_conn.cursor() as cur:
        cur.execute(
            """WITH cells AS (SELECT k, ST_GeomFromGeoJSON(g) AS geom FROM unnest(%s::text[]) WITH ORDINALITY u(g, k))
               SELECT k, count(c.id) FROM cells LEFT JOIN complaints c ON ST_Contains(cells.geom, c.geom)
               GROUP BY k ORDER BY k""",
            (polys,),
        )
        pip = np.array([row[1] for row in cur.fetchall()])
    # Points within a few centimetres of an edge may fall either way after the
    # WGS84 round trip of the polygons; allow a handful, not a pattern.
    assert np.abs(pip - res.count).sum() <= 4
    assert pip.sum() >= 5_996


def test_default_cell_and_filters(demo_conn):
    from datetime import datetime

    res = hotspots(demo_conn, since=datetime(2026, 1, 1, tzinfo=UTC), categories=["暴露垃圾", "垃圾满溢"])
    assert 50 <= res.cell_m <= 500
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE reported_at >= '2026-01-01Z' "
                    "AND category IN ('暴露垃圾', '垃圾满溢')")
        assert res.count.sum() == cur.fetchone()[0]


def test_bad_parameters_are_named(demo_conn):
    from data.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="cell"):
        hotspots(demo_conn, cell_m=1)
    with pytest.raises(InvalidParameter, match="category"):
        hotspots(demo_conn, categories=["不存在的类别"])


def test_mann_kendall_equals_pymannkendall():
    rng = np.random.default_rng(11)
    series = np.vstack([rng.poisson(3, 36), np.arange(36) + rng.normal(0, 3, 36), rng.integers(0, 3, 36),
                        np.round(np.linspace(5, 0, 36))]).astype(float)
    s, z, p = mann_kendall(series)
    for k in range(series.shape[0]):
        ref = pymannkendall.original_test(series[k])
        assert s[k] == ref.s
        assert z[k] == pytest.approx(ref.z, abs=1e-12)
        assert p[k] == pytest.approx(ref.p, abs=1e-12)


def test_emerging_patterns():
    t = 12
    bins = np.zeros((5, t), dtype=int)
    bins[0, -1] = 2                     # new
    bins[1, -3:] = 1                    # consecutive
    bins[2, :] = 3                      # persistent / intensifying by trend
    bins[3, ::2] = 1
    bins[3, -1] = 2                     # sporadic
    bins[4, :11] = 3                    # historical
    z = np.array([0, 0, 3.0, 0, 0])
    p = np.array([1, 1, 0.001, 1, 1])
    assert classify_emerging(bins, z, p) == ["new", "consecutive", "intensifying", "sporadic", "historical"]
    assert confidence_bins(np.array([5.0, -5.0, 0.1]), np.array([1e-7, 1e-7, 0.9])).tolist() == [3, -3, 0]


def test_per_population_spreads_every_resident_over_the_cells(demo_conn):
    res = hotspots(demo_conn, cell_m=200, per_population=True)
    with demo_conn.cursor() as cur:
        cur.execute("SELECT sum(population) FROM admin_areas WHERE level = 'community'")
        total = cur.fetchone()[0]
    assert res.population.sum() == pytest.approx(total, rel=1e-6)
    with_people = res.population > 0
    np.testing.assert_allclose(res.value[with_people], res.count[with_people] / res.population[with_people] * 1e4)
    ref = esda.G_Local(res.value, _rook(res.q, res.r), transform="B", star=True, permutations=0)
    np.testing.assert_allclose(res.gi_z, ref.Zs, rtol=0, atol=1e-9)
