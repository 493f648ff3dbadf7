"""geo.coords against the published test vectors of STANDARDS §6, and round trips."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from data.errors import InvalidParameter
from geo import coords

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [((116.481499, 39.990475), (116.487585, 39.991754)),
     ((120.0, 40.0), (120.00567568, 40.00130479)),
     ((105.0, 35.0), (105.00328630, 34.99909862))],
)
def test_wgs84_to_gcj02_matches_published_vectors(wgs, gcj):
    lon, lat = coords.wgs84_to_gcj02(*wgs)
    assert abs(lon - gcj[0]) < 1e-6 and abs(lat - gcj[1]) < 1e-6


def test_gcj02_to_bd09_matches_published_vector():
    # The published formula gives 116.4941190: one unit off in the vector's
    # rounded 6th decimal, so the bound is that unit plus rounding.
    lon, lat = coords.gcj02_to_bd09(116.487585, 39.991754)
    assert abs(lon - 116.494120) < 1.5e-6 and abs(lat - 39.997716) < 1.5e-6


def test_beijing_railway_station_wgs_bd_both_ways():
    # This vector is given to 5 decimals (about 1 m) and comes from a map
    # look-up, not the formula: the formula lands within 1.1e-5° (~1.2 m).
    lon, lat = coords.wgs84_to_bd09(116.42079, 39.90105)
    assert abs(lon - 116.43351) < 1.5e-5 and abs(lat - 39.90851) < 1.5e-5
    assert metres(116.43351, 39.90851, lon, lat) < 1.5
    lon, lat = coords.bd09_to_wgs84(116.43351, 39.90851)
    assert metres(116.42079, 39.90105, lon, lat) < 1.5


def test_inverse_round_trips_are_under_half_a_metre_across_china():
    rng = np.random.default_rng(3)
    lon = rng.uniform(74, 135, 100_000)
    lat = rng.uniform(18, 53, 100_000)
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.5
    back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 0.5
    back = coords.bd09_to_gcj02(*coords.gcj02_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 0.5


def test_gcj_shift_is_hundreds_of_metres_in_china_and_zero_outside():
    shifted = coords.wgs84_to_gcj02(np.array([116.4, -74.0]), np.array([39.9, 40.7]))
    d = metres([116.4, -74.0], [39.9, 40.7], *shifted)
    assert 100 < d[0] < 1000
    assert d[1] == 0


def test_nan_passes_through_without_stalling():
    lon, lat = coords.gcj02_to_wgs84(np.array([np.nan, 116.4]), np.array([np.nan, 39.9]))
    assert np.isnan(lon[0]) and np.isfinite(lon[1])


def test_cgcs2000_gauss_kruger_zone_with_xy_order():
    # 3-degree zone 39 (central meridian 117°E), EPSG:4527: false easting 39,500,000.
    x, y = coords.from_wgs84(117.0, 39.9, "EPSG:4527")
    assert abs(x - 39_500_000) < 1 and 4_400_000 < y < 4_430_000
    lon, lat = coords.to_wgs84(x, y, coords.parse_crs("epsg:4527"))
    assert metres(117.0, 39.9, lon, lat) < 0.01


def test_us_state_plane_feet():
    # NYC, EPSG:2263 (US survey feet): City Hall ≈ (983,000 ft, 198,000 ft)
    lon, lat = coords.to_wgs84(983_000, 198_000, "EPSG:2263")
    assert -74.02 < lon < -73.99 and 40.70 < lat < 40.72


@pytest.mark.parametrize("value", ["WGS84", "gcj-02", "BD09", "cgcs2000", "EPSG:4549", "4326"])
def test_parse_crs_accepts(value):
    assert coords.parse_crs(value) in (*coords.NAMED_CRS, "EPSG:4549")


@pytest.mark.parametrize("value", ["mercator", "EPSG:999999", ""])
def test_parse_crs_refuses_with_the_parameter_named(value):
    with pytest.raises(InvalidParameter, match="--crs"):
        coords.parse_crs(value)
