"""The HTML representation (``f=html`` or ``Accept: text/html``): plain pages, escaped.

Every value from the database or the request goes through :func:`html.escape`.
Item lists get a small Leaflet map (served by the app itself, no CDN).
"""

from __future__ import annotations

from html import escape

import orjson

from ..core.read.layers import Layer
from ..core.read.crs import ServedCrs

_STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5rem;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#f3f3f3}a{color:#0b5cad}#map{height:420px;margin:.5rem 0;border:1px solid #ccc}
code{background:#f5f5f5;padding:0 .2rem}
"""


def _page(title: str, body: str, map_geojson: str | None = None) -> str:
    head = f'<meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style>'
    script = ""
    if map_geojson is not None:
        head += '<link rel="stylesheet" href="/vendor/leaflet/leaflet.css">'
        script = (
            '<script src="/vendor/leaflet/leaflet.js"></script><script>'
            f"const data={map_geojson};"
            "const map=L.map('map');const layer=L.geoJSON(data,{style:{color:'#c0392b',weight:1}}).addTo(map);"
            "if(layer.getBounds().isValid()){map.fitBounds(layer.getBounds());}else{map.setView([30.63,120.56],11);}"
            "</script>"
        )
    nav = '<p><a href="/ogc?f=html">OGC API 首页</a> · <a href="/ogc/collections?f=html">集合</a> · <a href="/">地图</a></p>'
    map_div = '<div id="map"></div>' if map_geojson is not None else ""
    return f"<!doctype html><html lang=\"zh-CN\"><head>{head}</head><body>{nav}<h1>{escape(title)}</h1>{map_div}{body}{script}</body></html>"


def _links(links: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{escape(link.get('rel', ''))}</td><td>{escape(link.get('type', ''))}</td>"
        f"<td><a href=\"{escape(link['href'])}\">{escape(link.get('title') or link['href'])}</a></td></tr>"
        for link in links
    )
    return f"<h2>链接</h2><table><tr><th>rel</th><th>类型</th><th>地址</th></tr>{rows}</table>"


def redirect_page(target: str) -> str:
    return _page("接口文档", f'<p>请打开 <a href="{escape(target)}">{escape(target)}</a>。</p>')


def landing(doc: dict) -> str:
    return _page(doc["title"], f"<p>{escape(doc['description'])}</p>{_links(doc['links'])}")


def conformance(doc: dict) -> str:
    items = "".join(f"<li><code>{escape(c)}</code></li>" for c in doc["conformsTo"])
    return _page("符合的标准类", f"<ul>{items}</ul>")


def collections(doc: dict) -> str:
    rows = "".join(
        f"<tr><td><a href=\"/ogc/collections/{escape(c['id'])}?f=html\">{escape(c['id'])}</a></td>"
        f"<td>{escape(c['title'])}</td><td>{escape(c['description'])}</td></tr>"
        for c in doc["collections"]
    )
    return _page("要素集合", f"<table><tr><th>编号</th><th>名称</th><th>说明</th></tr>{rows}</table>")


def collection(doc: dict, c: Layer) -> str:
    crs = "".join(f"<li><code>{escape(u)}</code></li>" for u in doc["crs"])
    body = (
        f"<p>{escape(doc['description'])}</p>"
        f"<p><a href=\"/ogc/collections/{escape(c.id)}/items?f=html\">浏览要素</a> · "
        f"<a href=\"/ogc/collections/{escape(c.id)}/queryables?f=html\">可查询属性</a></p>"
        f"<h2>支持的坐标系</h2><ul>{crs}</ul>{_links(doc['links'])}"
    )
    return _page(doc["title"], body)


def queryables(doc: dict, c: Layer) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{escape(s.get('title', ''))}</td>"
        f"<td>{escape(s.get('type', s.get('format', '')))}</td><td>{escape(s.get('description', ''))}</td></tr>"
        for name, s in doc["properties"].items()
    )
    return _page(f"{c.title}：可查询属性", f"<table><tr><th>属性</th><th>名称</th><th>类型</th><th>取值</th></tr>{rows}</table>")


def items(head: dict, features_json: str, c: Layer, crs: ServedCrs) -> str:
    features = orjson.loads(features_json)
    names = list(features[0]["properties"]) if features else []
    header = "<tr><th>编号</th>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    rows = "".join(
        f"<tr><td><a href=\"/ogc/collections/{escape(c.id)}/items/{escape(str(f['id']))}?f=html\">{escape(str(f['id']))}</a></td>"
        + "".join(f"<td>{escape('' if f['properties'].get(n) is None else str(f['properties'][n]))}</td>" for n in names)
        + "</tr>"
        for f in features
    )
    nav = "".join(
        f" <a href=\"{escape(link['href'].replace('f=json', 'f=html'))}\">{escape(link['title'])}</a>"
        for link in head["links"] if link["rel"] in {"prev", "next"}
    )
    summary = f"<p>共 {head['numberMatched']} 个，本页 {head['numberReturned']} 个。{nav}</p>"
    # The map needs lon/lat: draw only when the page is in CRS84.
    map_data = _script_json(features_json) if crs.srid in (4326, 4490) and not crs.flip else None
    return _page(f"{c.title}：要素", summary + f"<table>{header}{rows}</table>", map_data)


def item(feature_json: str, c: Layer, links: list[dict]) -> str:
    feature = orjson.loads(feature_json)
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape('' if v is None else str(v))}</td></tr>"
        for k, v in feature["properties"].items()
    )
    return _page(f"{c.title} {feature['id']}", f"<table>{rows}</table>{_links(links)}", _script_json(feature_json))


def _script_json(text: str) -> str:
    # Inside <script>, "</" must not appear literally.
    return text.replace("</", "<\\/")
