"""The bulletin over HTTP and the command line: the JSON contract, bad parameters, the XLSX workbook."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from api.cli.main import main

ROW_KEYS = {"code", "name", "received", "filed", "closed", "closed_rate", "on_time_rate", "rework_rate",
            "open_at_end", "overdue_at_end", "median_hours", "rank", "rank_change", "findings", "deductions", "score"}


def test_json_contract(demo_client):
    r = demo_client.get("/api/reports/bulletin?period=month&date=2026-10-30")
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["period"]["start"] == "2026-10-01T00:00:00+08:00" and b["period"]["end"] == "2026-11-01T00:00:00+08:00"
    assert b["period"]["label"] == "2026年10月"
    assert len(b["streets"]) == 4 and all(ROW_KEYS <= set(row) for row in b["streets"] + b["units"])
    assert sum(row["received"] for row in b["streets"]) == b["totals"]["received"] > 0
    assert sum(row["received"] for row in b["units"]) == b["totals"]["received"]
    assert sum(row["received"] for row in b["categories"]) == b["totals"]["received"]
    assert b["summary_zh"].startswith("本月共受理投诉") and b["summary_en"].startswith("This month")
    definitions = {d["code"]: d for d in b["definitions"]}
    assert definitions["closed_rate"]["label"] == "S" and "天门" in definitions["closed_rate"]["source"]
    assert definitions["rework_rate"]["source"] == "本项目工作定义"  # the project's own definition, in the bulletin's language
    # The demo's inspection rounds ran in October: their figures and definitions are there; it has no ratings.
    assert {"findings", "deductions", "score"} <= set(definitions) and "satisfaction" not in definitions
    assert b["ranked_by"] == "score" and b["inspections"]["findings"] == sum(r["findings"] for r in b["streets"])
    assert all({"satisfaction", "rated"} <= set(row) for row in b["streets"])
    en = demo_client.get("/api/reports/bulletin?period=quarter&date=2026-Q3&lang=en").json()
    assert en["period"]["label"] == "2026 Q3" and en["streets"][0]["name"].isascii()
    assert {d["code"]: d["source"] for d in en["definitions"]}["rework_rate"] == "this project's working definition"
    assert en["inspections"] is None and en["ranked_by"] == "closed_rate" and "score" not in {
        d["code"] for d in en["definitions"]}


@pytest.mark.parametrize(("query", "parameter"), [
    ("period=fortnight&date=2026-10", "period"),
    ("period=week&date=2026-10", "date"),
    ("period=month&date=2026-13", "date"),
    ("period=month&date=2026-02-30", "date"),
    ("period=year&date=1066", "date"),
    ("period=month&date=yesterday", "date"),
    ("period=month", "date"),
])
def test_bad_period_is_422_naming_the_parameter(demo_client, query, parameter):
    r = demo_client.get(f"/api/reports/bulletin?{query}")
    assert r.status_code == 422, r.text
    assert parameter in r.text


def _sheets(data: bytes) -> dict:
    book = load_workbook(io.BytesIO(data))
    return {s.title: [[c.value for c in row] for row in s.iter_rows()] for s in book.worksheets}, book


def test_xlsx_route_and_cli_agree_with_the_json(demo_client, demo_db, env_for, tmp_path):
    b = demo_client.get("/api/reports/bulletin?period=month&date=2026-10").json()
    r = demo_client.get("/reports/bulletin.xlsx?period=month&date=2026-10")
    assert r.status_code == 200 and "bulletin-month-2026-10-01.xlsx" in r.headers["content-disposition"]
    sheets, book = _sheets(r.content)
    assert list(sheets) == ["概况", "街道排名", "责任单位排名", "问题类别", "近期趋势", "热点变化", "设施变化", "逾期未整改问题",
                            "检查扣分明细", "指标说明"]
    assert [row[2] for row in sheets["近期趋势"][1:]] == [p["received"] for p in b["trend"]]
    assert [row[0] for row in sheets["热点变化"][1:]] == [c["pattern_name"] for c in b["hotspots"]["cells"]]
    streets = sheets["街道排名"]
    assert streets[0][:6] == ["排名", "名次变化", "代码", "街道", "受理数", "立案数"]
    first = dict(zip(streets[0], streets[1]))
    json_first = b["streets"][0]
    assert first["受理数"] == json_first["received"] and isinstance(first["受理数"], int)
    assert first["结案率"] == json_first["closed_rate"] and isinstance(first["结案率"], float)
    assert book["街道排名"].cell(2, streets[0].index("结案率") + 1).number_format == "0.0%"
    assert len(sheets["责任单位排名"]) == len(b["units"]) + 1
    # A unit is known by its name: no 代码 column repeating it.
    assert sheets["责任单位排名"][0][:4] == ["排名", "名次变化", "责任单位", "受理数"], sheets["责任单位排名"][0]
    definitions = {row[0]: row for row in sheets["指标说明"][1:]}
    assert "应结案数" in definitions["结案率"][2] and definitions["结案率"][4].startswith("S")

    env_for(demo_db)
    out = tmp_path / "bulletin.xlsx"
    result = CliRunner().invoke(main, ["report", "bulletin", "--period", "month", "--date", "2026-10", "--lang", "en",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{out}: " in result.output and " received, " in result.output and " streets, " in result.output
    zh_out = tmp_path / "通报.xlsx"
    said = CliRunner().invoke(main, ["report", "bulletin", "--period", "month", "--date", "2026-10", "--out",
                                     str(zh_out)]).output
    t = b["totals"]
    assert f"{zh_out}：受理 {t['received']} 件，应结案 {t['due']} 件，结案 {t['closed']} 件；" in said, said
    english, _ = _sheets(out.read_bytes())
    assert list(english) == ["Summary", "Streets", "Units", "Categories", "Trend", "Emerging hot spots", "Facilities",
                            "Overdue findings", "Deductions by checklist item", "Definitions"]
    assert english["Streets"][0][4] == "Received"
    assert [row[4] for row in english["Streets"][1:]] == [row[4] for row in streets[1:]]


def test_cli_refuses_bad_input_in_one_line(demo_db, env_for, tmp_path):
    env_for(demo_db)
    runner = CliRunner()
    result = runner.invoke(main, ["report", "bulletin", "--period", "week", "--date", "2026-10",
                                  "--out", str(tmp_path / "b.xlsx")])
    assert result.exit_code != 0 and "--date" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["report", "bulletin", "--period", "month", "--date", "2026-10",
                                  "--out", str(tmp_path / "b.docx")])
    assert result.exit_code != 0 and "--out" in result.output
    assert not (tmp_path / "b.xlsx").exists()


def test_no_city_says_how_to_set_one_up(fresh_db, env_for, tmp_path):
    from data.db import connect
    from data.migrate import migrate

    conn = connect(url=fresh_db)
    migrate(conn)
    conn.close()
    env_for(fresh_db)
    result = CliRunner().invoke(main, ["report", "bulletin", "--period", "month", "--date", "2026-10",
                                       "--out", str(tmp_path / "b.xlsx")])
    assert result.exit_code != 0 and "city" in result.output.lower()


def test_pdf_bulletin_is_a4_vector_with_the_font_embedded(demo_client, demo_db, env_for, tmp_path):
    """The 通报 over HTTP: A4, the CJK font embedded, the summary and the ranking as text, and, looked at as a
    picture (pdftoppm), a title in black and the red list marks in red."""
    import subprocess

    import numpy as np
    from PIL import Image

    b = demo_client.get("/api/reports/bulletin?period=month&date=2026-10").json()
    r = demo_client.get("/reports/bulletin.pdf?period=month&date=2026-10")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "bulletin.pdf"
    pdf.write_bytes(r.content)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(" yes yes yes " in line for line in fonts)  # embedded, subset, with a Unicode map
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "烟霞市（演示）创建卫生城市工作通报" in text and "2026年10月" in text and "文号" in text
    assert b["summary_zh"][:30] in text.replace("\n", "")
    worst = [s for s in b["streets"] if s["rank"] is not None][-1]
    assert worst["name"] in text and "红榜" in text and "黑榜" in text and "指标说明" in text
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    pixels = np.asarray(Image.open(tmp_path / "page-1.png").convert("RGB")).astype(int)
    height = pixels.shape[0]
    title = pixels[int(0.03 * height):int(0.08 * height)]
    assert (title.sum(axis=2) < 200).mean() > 0.01  # the title's ink
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    assert red.sum() > 50  # the red rule under the title and the 红榜 marks

    env_for(demo_db)
    out = tmp_path / "new" / "bulletin-en.pdf"
    result = CliRunner().invoke(main, ["report", "bulletin", "--period", "year", "--date", "2026", "--lang", "en",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    english = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "hygiene campaign bulletin" in english and "red list" in english


@pytest.mark.parametrize(("lang", "headings"), [
    ("zh", ["名次变化", "按期结案率", "期末未结案数", "期末超期未结案数", "黑榜"]),
    ("en", ["Closed %", "On time %", "Rework %", "Overdue", "black list", "Haizhuang Subdistrict"]),
])
def test_pdf_table_headings_and_marks_are_not_cut_off(demo_client, tmp_path, lang, headings):
    """Every heading and cell of the ranking tables is printed whole: the table shortens text that does not
    fit its column with an ellipsis, and none is left (English uses short headings, spelled out in the notes)."""
    import subprocess

    r = demo_client.get(f"/reports/bulletin.pdf?period=month&date=2026-10&lang={lang}")
    pdf = tmp_path / "bulletin.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "…" not in text
    for heading in headings:
        assert heading in text, heading


@pytest.mark.parametrize(("month", "by", "title"), [("2026-09", "closed_rate", "街道结案率分布"),
                                                ("2026-10", "score", "街道检查得分分布")])
def test_pdf_map_colours_each_street_by_what_it_is_ranked_on(demo_client, tmp_path, month, by, title):
    """Looked at as a picture: page one shows the class colour of every street's 结案率 — or, in a month with
    inspection findings (the demo's October), of its score as a share of the base 100 — and of no other class,
    and the map names each street with its value."""
    import subprocess

    import numpy as np
    from PIL import Image

    from layers.reports.street_map import CLASSES

    b = demo_client.get(f"/api/reports/bulletin?period=month&date={month}").json()
    assert b["ranked_by"] == by
    pdf = tmp_path / "bulletin.pdf"
    pdf.write_bytes(demo_client.get(f"/reports/bulletin.pdf?period=month&date={month}").content)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    pixels = np.asarray(Image.open(tmp_path / "p-1.png").convert("RGB")).astype(int)

    def area(colour: str) -> int:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(pixels - rgb).sum(axis=2) < 12).sum())

    # The classes written out apart from the code: ≥95 %, 90–95, 80–90, 70–80, below 70 (CLASSES' colours, best first).
    share = {s["code"]: s["closed_rate"] if by == "closed_rate" else s["score"] / 100 for s in b["streets"]}
    used = {CLASSES[sum(v < bound for bound in (0.95, 0.90, 0.80, 0.70))][1] for v in share.values()}
    assert len(used) >= 2  # the demo month has streets in more than one class, so the picture can tell them apart
    legend_swatch = 5 * 3.2 * (60 / 25.4) ** 2  # each class's swatch in the legend, in pixels
    for _, colour in CLASSES:
        assert (area(colour) > 40 * legend_swatch) == (colour in used), colour
    text = subprocess.run(["pdftotext", "-raw", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert title in text
    for s in b["streets"]:
        assert (f"{100 * s['closed_rate']:.1f}%" if by == "closed_rate" else f"{s['score']:g}分") in text


def test_pdf_trend_chart_and_hotspot_map_are_drawn(demo_client, tmp_path):
    """Looked at as pictures: the PDF's trend of the last 12 months has the bars' blue and the line's orange, under
    its title; the hot spot map has the colour of October's emerging hot spot; all vector (no image in the file)."""
    import subprocess

    import numpy as np
    from PIL import Image

    from layers.reports.changes import EMERGED
    from layers.reports.trend import BAR, LINE

    pdf = tmp_path / "bulletin.pdf"
    pdf.write_bytes(demo_client.get("/reports/bulletin.pdf?period=month&date=2026-10").content)
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "近12个月受理数与结案率" in text and "11月" in text
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # the header lines only
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(tmp_path / "p")], check=True)
    swatch = 5 * 3.2 * (100 / 25.4) ** 2  # a legend swatch, in pixels: drawn for every pattern

    def area(pixels, colour: str) -> int:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(pixels - rgb).sum(axis=2) < 12).sum())

    pages = [np.asarray(Image.open(p).convert("RGB")).astype(int) for p in sorted(tmp_path.glob("p-*.png"))]
    assert max(area(p, BAR) for p in pages) > 4000 and max(area(p, LINE) for p in pages) > 100
    b = demo_client.get("/api/reports/bulletin?period=month&date=2026-10").json()
    assert "五、热点变化" in text and "六、设施变化" in text and "无法得出" in text
    for pattern, colour in EMERGED.items():
        drawn = max(area(p, colour) for p in pages)
        assert (drawn > swatch + 60) == (b["hotspots"]["counts"][pattern] > 0), (pattern, drawn, swatch)
