"""HTML pages of the OGC API (``f=html`` or a browser's Accept header): plain tables and links.

Chinese first, English with ``lang=en``. No scripts and no outside resources,
so the pages work on an intranet.
"""

from __future__ import annotations

import html

import orjson

from layers.spec.model import LayerSpec

_T = {
    "zh": {"collections": "数据集（图层）", "conformance": "符合性类别", "id": "标识", "title": "名称",
           "extent": "范围", "items": "要素", "features": "要素列表", "returned": "本页要素数",
           "matched": "匹配要素数", "next": "下一页", "prev": "上一页", "json": "JSON", "geometry": "几何",
           "crs": "坐标参照系", "queryables": "可查询属性", "landing": "首页", "other": "English",
           "other_lang": "en"},
    "en": {"collections": "Collections (layers)", "conformance": "Conformance classes", "id": "id", "title": "Title",
           "extent": "Extent", "items": "Features", "features": "Features", "returned": "Features on this page",
           "matched": "Features matched", "next": "Next page", "prev": "Previous page", "json": "JSON",
           "geometry": "Geometry", "crs": "Coordinate reference system", "queryables": "Queryable properties",
           "landing": "Landing page", "other": "中文", "other_lang": "zh"},
}
_esc = html.escape


def _page(title: str, body: str, lang: str) -> str:
    t = _T[lang]
    return f"""<!doctype html>
<html lang="{'en' if lang == 'en' else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_esc(title)}</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left;vertical-align:top}}
code{{font-size:90%}}nav a{{margin-right:1em}}</style></head>
<body><nav><a href="/ogc?f=html&amp;lang={lang}">{_esc(t['landing'])}</a>
<a href="/ogc/collections?f=html&amp;lang={lang}">{_esc(t['collections'])}</a>
<a href="?f=html&amp;lang={t['other_lang']}" style="float:right">{t['other']}</a></nav>
<h1>{_esc(title)}</h1>{body}</body></html>"""


def _links(links: list[dict]) -> str:
    rows = "".join(
        f'<li><a rel="{_esc(link["rel"])}" href="{_esc(link["href"])}">{_esc(link.get("title") or link["rel"])}</a>'
        f' <code>{_esc(link["rel"])}</code> <code>{_esc(link["type"])}</code></li>' for link in links)
    return f"<ul>{rows}</ul>"


def landing(body: dict, lang: str) -> str:
    """The landing page: what the service is, and its links."""
    return _page(body["title"], f"<p>{_esc(body['description'])}</p>{_links(body['links'])}", lang)


def conformance(body: dict, lang: str) -> str:
    """The conformance classes the service implements."""
    rows = "".join(f"<li><code>{_esc(c)}</code></li>" for c in body["conformsTo"])
    return _page(_T[lang]["conformance"], f"<ul>{rows}</ul>", lang)


def _extent(collection: dict) -> str:
    box = collection.get("extent", {}).get("spatial", {}).get("bbox", [None])[0]
    text = ", ".join(f"{v:.4f}" for v in box) if box else ""
    interval = collection.get("extent", {}).get("temporal", {}).get("interval", [None])[0]
    if interval:
        text += f"<br>{_esc(interval[0] or '..')} / {_esc(interval[1] or '..')}"
    return text


def collections(body: dict, lang: str) -> str:
    """A table of the collections (layers): title, id, extent, a link to the features."""
    t = _T[lang]
    rows = "".join(
        f'<tr data-collection="{_esc(c["id"])}"><td><a href="/ogc/collections/{_esc(c["id"])}?f=html&amp;lang={lang}">'
        f'{_esc(c["title"])}</a></td><td><code>{_esc(c["id"])}</code></td><td>{_extent(c)}</td>'
        f'<td><a href="/ogc/collections/{_esc(c["id"])}/items?f=html&amp;lang={lang}">{_esc(t["items"])}</a></td></tr>'
        for c in body["collections"])
    table = (f"<table><thead><tr><th>{t['title']}</th><th>{t['id']}</th><th>{t['extent']}</th><th></th></tr></thead>"
             f"<tbody>{rows}</tbody></table>")
    return _page(t["collections"], table + _links(body["links"]), lang)


def collection(body: dict, lang: str) -> str:
    """One collection: description, extent, CRS, queryable properties."""
    t = _T[lang]
    crs = "".join(f"<li><code>{_esc(c)}</code></li>" for c in body["crs"])
    queryables = "".join(f"<li><code>{_esc(q)}</code></li>" for q in body["queryables"])
    parts = (f"<p>{_esc(body['description'])}</p><p>{_esc(t['extent'])}: {_extent(body)}</p>"
             f"<p><a href=\"/ogc/collections/{_esc(body['id'])}/items?f=html&amp;lang={lang}\">{_esc(t['items'])}</a></p>"
             f"<h2>{_esc(t['crs'])}</h2><ul>{crs}</ul><h2>{_esc(t['queryables'])}</h2><ul>{queryables}</ul>"
             f"{_links(body['links'])}")
    return _page(body["title"], parts, lang)


#: A yes/no property as a reader says it (Python's True/False on a Chinese page read as code).
_YES_NO = {"zh": ("否", "是"), "en": ("no", "yes")}


def _value(value, lang: str) -> str:
    if isinstance(value, bool):
        return _YES_NO[lang][value]
    return "" if value is None else _esc(str(value))


def _labels(spec: LayerSpec, lang: str) -> dict[str, str]:
    return {f.column: f.label(lang) for f in spec.popup}


def _geometry(geometry: dict | None) -> str:
    """The geometry type, with its GeoJSON coordinates folded away (they can be long)."""
    if not geometry:
        return ""
    return (f"<details><summary>{_esc(geometry.get('type', ''))}</summary>"
            f"<code>{_esc(orjson.dumps(geometry).decode())}</code></details>")


def items(spec: LayerSpec, body: dict, lang: str, crs: str) -> str:
    """A page of features as a table, with links to the previous and next pages."""
    t = _T[lang]
    labels = _labels(spec, lang)
    head = "".join(f"<th>{_esc(labels.get(c, c))}</th>" for c in spec.columns)
    head += f"<th>{_esc(t['geometry'])}</th>"
    rows = []
    for feature in body["features"]:
        cells = "".join(f"<td>{_value(feature['properties'].get(c), lang)}</td>" for c in spec.columns)
        cells += f"<td>{_geometry(feature.get('geometry'))}</td>"
        rows.append(f'<tr data-id="{feature["id"]}"><td><a href="/ogc/collections/{spec.id}/items/{feature["id"]}'
                    f'?f=html&amp;lang={lang}">{feature["id"]}</a></td>{cells}</tr>')
    nav = "".join(f'<a rel="{link["rel"]}" href="{_esc(link["href"])}">{_esc(t[link["rel"]])}</a> '
                  for link in body["links"] if link["rel"] in ("prev", "next"))
    counts = f"{t['returned']}: {body['numberReturned']}"
    if "numberMatched" in body:
        counts += f" · {t['matched']}: {body['numberMatched']}"
    parts = (f"<p>{counts} · <code>{_esc(crs)}</code></p><p>{nav}</p>"
             f"<table><thead><tr><th>{t['id']}</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
             f"<p>{nav}</p>{_links(body['links'])}")
    return _page(f"{spec.name(lang)} — {t['features']}", parts, lang)


def item(spec: LayerSpec, feature: dict, lang: str) -> str:
    """One feature: its properties and its geometry."""
    t = _T[lang]
    labels = _labels(spec, lang)
    rows = "".join(f"<tr><th>{_esc(labels.get(c, c))}</th><td>{_value(feature['properties'].get(c), lang)}</td></tr>"
                   for c in spec.columns)
    geometry = feature.get("geometry") or {}
    parts = (f"<table><tbody><tr><th>{t['id']}</th><td>{feature['id']}</td></tr>{rows}"
             f"<tr><th>{t['geometry']}</th><td>{_geometry(geometry)}</td></tr></tbody></table>"
             f"{_links(feature['links'])}")
    return _page(f"{spec.name(lang)} {feature['id']}", parts, lang)
