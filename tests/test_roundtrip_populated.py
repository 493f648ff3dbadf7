"""Export → import round trip into the same populated city: every format, every layer with area codes.

Re-importing the tool's own export into a city that has admin areas used to
crash (``ValueError: assignment destination is read-only``) as soon as the
file had area-code columns. Each case exports a layer, imports the file back
into the same database, checks that nothing new was inserted and that every
row reads back equal, then rolls back.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile

import pytest
import shapely
from click.testing import CliRunner

from api.cli.main import main
from data.catalog import city_info
from data.db import connect, transaction
from data.errors import InvalidInput, InvalidParameter
from data.migrate import migrate
from layers.io.export import FORMATS, SUFFIXES, export_layer
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from layers.spec.registry import LAYERS, get_layer
from tests.conftest import create_database, drop_database, real_data

#: Layers with area-code columns (those the crash hit) that files are imported into (findings are not:
#: test_inspection_layer checks that such an import is refused).
CODED = [spec.id for spec in LAYERS if spec.area_codes and spec.rules.from_files]
#: Complaint descriptions with what breaks files: markup, quotes, a line break, traditional characters.
DESCRIPTIONS = ("垃圾桶满溢，<b>臭味</b> & 蚊蝇；\"已多次反映\"", "Overflowing bins\nbehind the market, 3rd time",
                "巷口積水、垃圾散落")


@pytest.fixture(scope="module")
def populated(module_demo):
    """A database of its own with the small demo (each case rolls its import back)."""
    conn = connect(url=module_demo)
    with transaction(conn), conn.cursor() as cur:  # the demo writes none: descriptions as residents write them
        cur.execute("UPDATE complaints SET description = (ARRAY[%s, %s, %s])[1 + id %% 3] WHERE id %% 4 = 0",
                    DESCRIPTIONS)
    yield conn
    conn.close()


def snapshot(conn, layer: str) -> tuple[list[tuple], list]:
    """Every row of a layer by its key: (key, stored columns, attributes) and the geometries, in key order."""
    key = "code" if layer == "grids" else "source, source_id"
    columns = stored(layer)
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(columns)}, attributes, ST_AsBinary(geom) FROM {layer} ORDER BY {key}")
        fetched = cur.fetchall()
    values = [tuple(_plain(v) for v in row[:-1]) for row in fetched]
    return values, [shapely.from_wkb(bytes(row[-1])) for row in fetched]


def stored(layer: str) -> list[str]:
    """The layer's stored columns, attributes apart (compared as sorted JSON, last)."""
    return [f.column for f in get_layer(layer).stored if f.column != "attributes"]


def _plain(value):
    """Numbers compared as floats (a file may give 3 for 3.0), JSON as sorted text."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(float(value), 6)
    return value


def round_trip(conn, layer: str, fmt: str, tmp_path) -> None:
    before, geoms = snapshot(conn, layer)
    out = tmp_path / f"{layer}{SUFFIXES[fmt]}"
    if fmt == "shp" and len({g.geom_type.removeprefix("Multi") for g in geoms}) > 1:
        with pytest.raises(InvalidParameter, match="a shapefile holds one geometry type"):
            export_layer(conn, layer, fmt, out)  # health trails: lines and polygons
        return
    n = export_layer(conn, layer, fmt, out)
    assert n == len(before) > 0
    try:
        result = import_file(conn, out, ImportOptions(layer))
        assert (result.inserted, result.rejected) == (0, 0), result.problems[:3]
        assert result.updated == n
        after, again = snapshot(conn, layer)
        columns = stored(layer) + ["attributes"]
        changed = [[(c, x, y) for c, x, y in zip(columns, b, a) if x != y] for b, a in zip(before, after) if a != b]
        assert len(after) == len(before) and not changed, changed[:2]  # same keys (no duplicates), codes, attributes
        assert shapely.equals_exact(shapely.normalize(geoms), shapely.normalize(again), tolerance=1e-6).all()
    finally:
        conn.rollback()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", CODED)
def test_demo_export_reimports_into_the_populated_city(populated, tmp_path, layer, fmt):
    round_trip(populated, layer, fmt, tmp_path)


def test_the_demo_has_the_descriptions_every_format_round_trips(populated):
    with populated.cursor() as cur:
        cur.execute("SELECT description, count(*) FROM complaints GROUP BY 1")
        counts = dict(cur.fetchall())
    populated.rollback()
    assert set(counts) == {None, *DESCRIPTIONS} and min(counts.values()) > 0


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's districts, villages and toilets; the districts' import sets the city up (its GK zone)."""
    url = create_database(pg_server[0])
    conn = connect(url=url)
    migrate(conn)
    tmp = tmp_path_factory.mktemp("taipei")
    for relative, opts in (
        ("taipei/taipei_districts_town.geojson",
         ImportOptions("admin_areas", level="district", code_field="CPTID", name_field="TNAME")),
        ("taipei/taipei_villages_li.geojson",
         ImportOptions("admin_areas", level="community", code_field="CPTVID", name_field="VNAME",
                       parent_field="CPTID")),
        ("taipei/taipei_public_toilets.csv", ImportOptions("toilets", skip_bad=True)),
    ):
        with transaction(conn):
            import_file(conn, real_data(relative, tmp), opts)
    assert city_info(conn)["metric_srid"] == 4550  # CGCS2000 / 3-degree Gauss-Kruger CM 123E
    yield conn
    conn.close()
    drop_database(url)


@pytest.mark.parametrize("fmt", FORMATS)
def test_taipei_toilets_export_reimports_into_taipei(taipei, tmp_path, fmt):
    round_trip(taipei, "toilets", fmt, tmp_path)


@pytest.mark.parametrize(("fmt", "seats", "is_free"), [("gpkg", "Integer64", "Integer(Boolean)"),
                                                        ("shp", "Integer64", "String")])
def test_taipei_toilets_export_numbers_and_yes_no_as_gis_field_types(taipei, tmp_path, fmt, seats, is_free):
    """Desktop GIS sorts and filters whole numbers as integers (not 12.000000000000000), and in a GeoPackage
    yes/no as a boolean; a .dbf has no boolean GDAL round-trips, so there it stays the text every export uses."""
    out = tmp_path / f"toilets{SUFFIXES[fmt]}"
    export_layer(taipei, "toilets", fmt, out)
    taipei.rollback()
    source = f"/vsizip/{out}" if fmt == "shp" else str(out)
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", source], capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    assert f"seats: {seats} " in info.stdout and f"is_free: {is_free} " in info.stdout, info.stdout[-900:]


@pytest.fixture(scope="module")
def new_york(pg_server, tmp_path_factory):
    """New York's boroughs (they set the city up, UTM 18N) and DOHMH's 311 rodent and unsanitary complaints:
    real descriptions ("Rat Sighting"), and attributes longer than a .dbf field (Resolution Description)."""
    url = create_database(pg_server[0])
    conn = connect(url=url)
    migrate(conn)
    tmp = tmp_path_factory.mktemp("nyc")
    for ext in (".dbf", ".shx", ".prj"):
        real_data(f"nyc/boundaries/nybb{ext}", tmp)
    with transaction(conn):
        import_file(conn, real_data("nyc/boundaries/nybb.shp", tmp),
                    ImportOptions("admin_areas", level="district", code_field="BoroCode", name_field="BoroName"))
    assert city_info(conn)["metric_srid"] == 32618
    with transaction(conn):
        import_file(conn, real_data("nyc/nyc311_dohmh_rodent_unsanitary_2018-01.csv", tmp),
                    ImportOptions("complaints", skip_bad=True, timezone="America/New_York"))
    yield conn
    conn.close()
    drop_database(url)


@pytest.mark.parametrize("fmt", FORMATS)
def test_new_york_complaints_keep_their_descriptions_and_long_attributes(new_york, tmp_path, fmt):
    """Every format read back leaves each 311 row as it was, its kilobyte of leftover columns too (the shapefile's
    zip: from the CSV the export set them aside in; re-importing it once emptied every row's attributes)."""
    with new_york.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE description = 'Rat Sighting'), "
                    "count(*) FILTER (WHERE octet_length(attributes::text) > 254) FROM complaints")
        described, long_attributes = cur.fetchone()
    new_york.rollback()
    assert described > 50 and long_attributes > 50
    round_trip(new_york, "complaints", fmt, tmp_path)


def _reads_attributes_back(conn, path, stored: dict) -> None:
    """``path`` (a shapefile or its folder) imported over the same rows updates them all and leaves every row's
    attributes as ``stored``, saying it read them from complaints_attributes.csv; rolled back."""
    try:
        result = import_file(conn, path, ImportOptions("complaints"))
        assert (result.inserted, result.updated) == (0, len(stored))
        assert any(f"attributes read from complaints_attributes.csv: {len(stored):,} rows" in n for n in result.notes)
        with conn.cursor() as cur:
            cur.execute("SELECT source, source_id, attributes FROM complaints ORDER BY id")
            assert {(source, source_id): attributes for source, source_id, attributes in cur.fetchall()} == stored
    finally:
        conn.rollback()


def test_a_shapefile_sets_long_attributes_aside_and_refuses_other_text_it_would_cut(new_york, populated, tmp_path,
                                                                                    env_for):
    """New York's 311 rows carry up to a kilobyte of leftover columns (attributes, JSON): the shapefile leaves
    that column out, the zip holds it whole in complaints_attributes.csv by source and source_id, and the export
    says so. Any other text too long for a .dbf field is refused before anything is written."""
    with new_york.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE octet_length(attributes::text) > 254")
        long_rows = cur.fetchone()[0]
        cur.execute("SELECT source, source_id, attributes FROM complaints ORDER BY id")
        stored = {(source, source_id): attributes for source, source_id, attributes in cur.fetchall()}
    new_york.rollback()
    out, notes = tmp_path / "complaints.zip", []
    assert export_layer(new_york, "complaints", "shp", out, notes=notes) == len(stored)
    (note,) = notes
    assert f"longer than a .dbf field's 254 bytes in {long_rows:,} rows" in note and "complaints_attributes.csv" in note
    assert f"有 {long_rows:,} 行长于 .dbf 字段的 254 字节" in note.zh
    with zipfile.ZipFile(out) as archive:
        assert "complaints_attributes.csv" in archive.namelist()
        aside = list(csv.DictReader(io.StringIO(archive.read("complaints_attributes.csv").decode("utf-8-sig"))))
        archive.extractall(tmp_path / "shp")
    assert {(r["source"], r["source_id"]): json.loads(r["attributes"]) for r in aside} == stored
    fields = subprocess.run(["ogrinfo", "-so", "-al", str(tmp_path / "shp" / "complaints.shp")], capture_output=True,
                            text=True, check=True).stdout
    assert "source_id: String" in fields and "attributes:" not in fields, fields
    # The unzipped folder, as QGIS edits it, read back: the attributes joined again from the CSV beside the .shp.
    _reads_attributes_back(new_york, tmp_path / "shp", stored)
    # Saved under another name (QGIS "Save As" edited.shp), the CSV keeping its own: still the only one there.
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for part in (tmp_path / "shp").iterdir():
        target = part.name if part.name.endswith("_attributes.csv") else "edited" + part.suffix
        (renamed / target).write_bytes(part.read_bytes())
    _reads_attributes_back(new_york, renamed / "edited.shp", stored)
    # The command says it, in the office's language.
    info = new_york.info
    env_for(f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}")
    said = CliRunner().invoke(main, ["export", "complaints", "--format", "shp", "--out", str(tmp_path / "cli.zip")])
    assert said.exit_code == 0, said.output
    assert f"说明：{note.zh}" in said.output and "已写入" in said.output, said.output
    # Counted in the .dbf's encoding: 90 Chinese characters are 270 bytes in UTF-8, 180 in GBK.
    refused_out = tmp_path / "described.zip"
    with populated.cursor() as cur:
        cur.execute("UPDATE complaints SET description = repeat('垃', 90) WHERE id = (SELECT min(id) FROM complaints)")
    try:
        with pytest.raises(InvalidParameter, match=r"description in 1 row \(up to 270 bytes\) \(utf-8\)"):
            export_layer(populated, "complaints", "shp", refused_out)
        assert not refused_out.exists()
        assert export_layer(populated, "complaints", "shp", refused_out, encoding="gbk") > 0
    finally:
        populated.rollback()


def test_a_shapefile_whose_attributes_csv_was_changed_is_refused_naming_it(new_york, tmp_path):
    """The set-aside CSV edited into other columns is refused naming the zip and the CSV, nothing written."""
    out = tmp_path / "complaints.zip"
    export_layer(new_york, "complaints", "shp", out)
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(edited, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, "编号,属性\n1,{}\n".encode() if name.endswith("_attributes.csv") else data)
    with new_york.cursor() as cur:
        cur.execute("SELECT count(*), md5(string_agg(attributes::text, '' ORDER BY id)) FROM complaints")
        before = cur.fetchone()
    with pytest.raises(InvalidInput, match=r"^edited\.zip: complaints_attributes\.csv must have the columns "
                                           r"source,source_id,attributes") as refused:
        import_file(new_york, edited, ImportOptions("complaints"))
    new_york.rollback()
    assert refused.value.zh.startswith("edited.zip：complaints_attributes.csv 的列应为")
    with new_york.cursor() as cur:
        cur.execute("SELECT count(*), md5(string_agg(attributes::text, '' ORDER BY id)) FROM complaints")
        assert cur.fetchone() == before
    new_york.rollback()
