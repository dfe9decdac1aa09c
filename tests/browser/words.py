"""What a user may never read: English words, API field names, rule codes, HTTP verbs, paths, raw JSON.

Chinese is the language of every page and spreadsheet; the Latin script appears only in codes people
use (区块编号 TX2022-CF-01, 统一社会信用代码, EPSG, CGCS2000), units (km, m²) and the names of file
formats and products that have no Chinese name (Excel, Shapefile, GeoJSON, GeoPackage).
"""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

# Capitalised words allowed as names (formats, products); everything else in that shape is English.
NAMES = {"Excel", "Shapefile", "GeoJSON", "GeoPackage", "Leaflet"}
LOWER_OK = {"km"}
# File name extensions a GIS clerk chooses files by (.zip, .gpkg …), written with their dot.
EXTENSIONS = {"zip", "shp", "dbf", "shx", "prj", "cpg", "gpkg", "geojson", "json", "xlsx", "xls", "csv", "kml", "dxf",
              "pdf", "jpg", "jpeg", "png"}  # the last four: evidence files (佐证材料) named as they were attached
DEVELOPER = [
    re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+/"),  # an HTTP verb and a path
    re.compile(r"/api/|/ogc/|docs/|\.md\b|\.py\b|\.js\b"),  # paths of the service or the repository
    re.compile(r"\b(null|undefined|NaN|true|false)\b"),
    re.compile(r"\[object |\{\s*\""),  # a JavaScript object or raw JSON
    re.compile(r"🇺🇦"),
]


def offending(text: str) -> list[str]:
    """The words and fragments of ``text`` that no user should see."""
    found: list[str] = []
    for m in re.finditer(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*", text):
        word = m.group(0)
        if word.lower() in EXTENSIONS and text[m.start() - 1:m.start()] == ".":
            continue
        if "_" in word.strip("_"):
            found.append(word)  # snake_case: an API field or a rule code
        elif re.fullmatch(r"[a-z]{2,}", word) and word not in LOWER_OK:
            found.append(word)  # an English word (codes people use are upper case)
        elif re.fullmatch(r"[A-Z][a-z]{2,}[A-Za-z]*", word) and word not in NAMES:
            found.append(word)  # a capitalised English word (Zoom, Upload…)
    for pattern in DEVELOPER:
        found.extend(m.group(0) for m in pattern.finditer(text))
    return found


# Everything a page shows or says: its text, and the names, hints and titles of its controls — less what is
# a person's own data, not the page's words: the elements matching ``drop`` (evidence links, chosen file
# names) and the file ``names`` wherever the page quotes them. The page itself when nothing is dropped.
PAGE_TEXT = """([drop, names]) => {
  const root = drop ? document.body.cloneNode(true) : document.body;
  if (drop) for (const el of root.querySelectorAll(drop)) el.remove();
  const parts = [document.title, root.innerText];
  for (const el of root.querySelectorAll('[title], [aria-label], [placeholder], [alt]')) {
    for (const a of ['title', 'aria-label', 'placeholder', 'alt']) {
      const v = el.getAttribute(a);
      if (v) parts.push(v);
    }
  }
  for (const o of root.querySelectorAll('option')) parts.push(o.textContent);
  let text = parts.join('\\n');
  for (const name of names) text = text.split(name).join('');
  return text;
}"""


def page_text(page, drop: str = "", names: tuple[str, ...] | list[str] = ()) -> str:
    return page.evaluate(PAGE_TEXT, [drop, list(names)])


def page_offending(page, drop: str = "", names: tuple[str, ...] | list[str] = ()) -> list[str]:
    return offending(page_text(page, drop, names))


def workbook_offending(content: bytes) -> list[str]:
    """Offending words in every sheet name and text cell of an .xlsx file."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    found: list[str] = []
    for sheet in book.worksheets:
        found.extend(offending(sheet.title))
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    found.extend(offending(value))
    return found
