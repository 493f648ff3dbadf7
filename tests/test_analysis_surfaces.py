"""Route and command share one declaration per analysis: the same parameters, meaning and GeoJSON."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from api.cli.main import main
from data.errors import InvalidParameter, NotFound
from layers.analysis.registry import load, names

ROOT = Path(__file__).resolve().parent.parent

# (analysis, query parameters, the same as command options)
SAME_REQUEST = [
    ("coverage", {"by": "street", "gaps": "1"}, ["--by", "street", "--gaps"]),
    ("coverage", {"kind": "garbage_points", "by": "district", "lang": "en"},
     ["--kind", "garbage_points", "--by", "district", "--lang", "en"]),
    ("hotspots", {"since": "2025-01-01", "cell": "200"}, ["--since", "2025-01-01", "--cell", "200"]),
    ("hotspots", {"emerging": "1", "cell": "250", "lang": "en"}, ["--emerging", "--cell", "250", "--lang", "en"]),
    ("density", {"by": "community"}, ["--by", "community"]),
    ("priority", {"street": "379901001", "since": "2025-06-01"}, ["--street", "379901001", "--since", "2025-06-01"]),
    ("siting", {"add": "2", "street": "379901001"}, ["--add", "2", "--street", "379901001"]),
]


@pytest.mark.parametrize("name,query,options", SAME_REQUEST)
def test_the_commands_geojson_is_the_routes_answer(demo_client, tmp_path, name, query, options):
    out = tmp_path / f"{name}.geojson"
    res = CliRunner().invoke(main, ["analyze", name, *options, "--out", str(out)])
    assert res.exit_code == 0, res.output
    resp = demo_client.get(f"/api/analysis/{name}", params=query)
    assert resp.status_code == 200, resp.text
    written = json.loads(out.read_bytes())
    answer = resp.json()
    assert set(written) == set(answer)  # the same top-level members: rule, summary, weights …
    assert written == answer


def test_every_analysis_is_a_route_and_a_command():
    from api.app import create_app
    from api.cli.analysis import analyze

    paths = create_app().openapi()["paths"]
    listed = CliRunner().invoke(main, ["analyze", "--help"]).output
    for name in names():
        analysis = load(name)
        route = paths[f"/api/analysis/{name}"]["get"]
        # The route's own: lang, and format (the GeoJSON or the table as a spreadsheet).
        assert {p["name"] for p in route["parameters"]} == {o.name for o in analysis.options} | {"lang", "format"}
        assert name in listed
        command = analyze.get_command(None, name)
        assert {p.name for p in command.params} - {"out", "limit", "lang"} == \
            {o.name for o in analysis.options if o.cli}


def test_a_time_without_a_zone_is_the_citys_on_both_surfaces():
    hotspots = load("hotspots")
    for cli in (False, True):
        args = hotspots.parse({"since": "2026-01-01", "until": "2026-02-01T08:00"}, cli=cli)
        assert args["window"].since == datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
        assert args["window"].until == datetime(2026, 2, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("name,raw,word", [
    ("hotspots", {"until": "2026-01-01T00:00:00+21:00"}, "until"),
    ("hotspots", {"since": "0001-01-01"}, "since"),
    ("hotspots", {"since": "2026-05-01", "until": "2026-01-01"}, "since"),
    ("hotspots", {"cell": "nan"}, "cell"),
    ("hotspots", {"emerging": "perhaps"}, "emerging"),
    ("coverage", {"street": "３７９９"}, "street"),
    ("coverage", {"kind": "toi\x00lets"}, "kind"),
    ("coverage", {"kind": "markets"}, "radius"),
    ("density", {"by": "moon"}, "by"),
    ("priority", {"limit": "0"}, "limit"),
    ("siting", {"add": "many"}, "add"),
])
def test_bad_parameters_are_refused_before_any_work(name, raw, word):
    with pytest.raises(InvalidParameter) as caught:
        load(name).parse(raw)
    assert caught.value.parameter == word
    with pytest.raises(InvalidParameter) as caught:
        load(name).parse(raw, cli=True)
    # A parser names the option as typed; a check of geo/ names the value.
    assert caught.value.parameter in (word, f"--{word}")


def test_an_unknown_analysis_is_not_found():
    with pytest.raises(NotFound, match="coverage"):
        load("fountains")


def test_route_and_command_reach_geo_only_through_layers():
    for path in ("api/routes/analysis.py", "api/cli/analysis.py"):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from geo\b|import geo\b)", text, re.M), path
        assert "api.routes" not in text or path.startswith("api/routes"), path
