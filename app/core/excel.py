"""The one workbook writer: every Excel file the service hands out prints the same way.

A sheet is a title (row 1), a date line (row 2), optional notes (one merged row each), then the
header row and the data. Numbers are written as numbers with a fixed format by column kind (亩 and
容积率 with 2 decimals, percentages as fractions shown as %), never as formatted text, so that the
receiving office can add them up. Every sheet prints on A4 landscape, one page wide, the header row
repeated on every page, with 第 n 页，共 m 页 in the footer.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..messages import message
from .clock import TIMEZONE  # dates on paper are Tongxiang dates

CREATOR = "桐乡工业全域治理云图"

KINDS = ("text", "int", "mu", "far", "area", "money", "pct", "date", "datetime")
NUMBER_FORMATS = {
    "int": "0",
    "mu": "#,##0.00",
    "far": "0.00",
    "area": '#,##0.00" m²"',
    "money": "#,##0.00",
    "pct": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
NUMERIC_KINDS = frozenset({"int", "mu", "far", "area", "money", "pct"})
DEFAULT_WIDTHS = {"int": 8, "mu": 12, "far": 9, "area": 14, "money": 14, "pct": 9, "date": 12, "datetime": 17}
MAX_TEXT_WIDTH = 50

HEADER_FILL = "DDEBF7"
_thin = Side(style="thin", color="9AA5B1")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)


@dataclass(frozen=True)
class Column:
    title: str                  # Chinese header
    kind: str = "text"          # one of KINDS
    width: float | None = None  # characters; default from kind/title
    number_format: str | None = None  # instead of the kind's (e.g. "0.00%" where a page shows 2 decimals)

    @property
    def format(self) -> str | None:
        return self.number_format or NUMBER_FORMATS.get(self.kind)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


def new_workbook() -> Workbook:
    """An empty workbook (no default sheet) that names the service as its author."""
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = CREATOR
    return wb


def _text_width(text: str) -> float:
    """Display width in Excel characters: a CJK character is about two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _naive(value: dt.datetime) -> dt.datetime:
    """Excel has no time zones: an aware time is written as the Tongxiang wall-clock time."""
    value = value.astimezone(TIMEZONE).replace(tzinfo=None) if value.tzinfo else value
    return value.replace(microsecond=0)


def cell_value(kind: str, value):
    """The value as the cell should hold it: numbers as int/float, dates as dates, None as empty.

    A numeric column that receives text (a placeholder such as “—”, or a number already formatted as
    text) keeps the text unless it reads as a number.
    """
    if value is None or value == "":
        return None
    if kind in NUMERIC_KINDS:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, str):
            try:
                value = float(value.replace(",", "").strip())
            except ValueError:
                return value
        if kind == "int" and isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    if kind in ("date", "datetime"):
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value) if kind == "datetime" else dt.date.fromisoformat(value[:10])
            except ValueError:
                return value
        if isinstance(value, dt.datetime):
            value = _naive(value)
            return value.date() if kind == "date" else value
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return _naive(value)
    return value


def print_setup(ws: Worksheet, *, header_row: int, landscape: bool = True) -> None:
    """A4, one page wide and as many tall as it takes, the header row on every page, pages numbered."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = 0.6
    ws.page_margins.bottom = 0.7
    ws.page_margins.footer = 0.3
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = message("excel_page_footer")
    ws.evenFooter.center.text = message("excel_page_footer")


def _merged_line(ws: Worksheet, row: int, text: str, width: int, *, font: Font,
                 align: str = "left", wrap: bool = False) -> None:
    ws.cell(row, 1, text or None)
    if width > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.cell(row, 1).font = font
    ws.cell(row, 1).alignment = Alignment(horizontal=align, vertical="center", wrap_text=wrap)


def table_sheet(wb: Workbook, name: str, columns: Sequence[Column], rows: Iterable[Sequence], *, title: str,
                date_line: str | None = None, notes: Sequence[str] = ()) -> Worksheet:
    """A sheet holding one table; the header row is ``3 + len(notes)`` (row 2 is kept, empty, without a date line)."""
    ws = wb.create_sheet(name[:31])
    width = max(len(columns), 1)
    _merged_line(ws, 1, title, width, font=Font(bold=True, size=14), align="center")
    ws.row_dimensions[1].height = 24
    _merged_line(ws, 2, date_line or "", width, font=Font(size=10, color="52606D"), align="right")
    for k, note in enumerate(notes, start=3):
        _merged_line(ws, k, note, width, font=Font(size=10, color="52606D"), wrap=True)
        ws.row_dimensions[k].height = max(15, 15 * (1 + int(_text_width(note) // max(_total_width(columns), 1))))
    header_row = 3 + len(notes)
    write_table(ws, header_row, columns, rows)
    print_setup(ws, header_row=header_row)
    return ws


def write_table(ws: Worksheet, header_row: int, columns: Sequence[Column], rows: Iterable[Sequence]) -> int:
    """The header at ``header_row`` and the rows below it, frozen and filtered; returns the last row written.

    For sheets with a heading of their own (the 月度通报 masthead); :func:`table_sheet` uses it too.
    """
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    widths = [_text_width(c.title) + 2 for c in columns]
    for col, c in enumerate(columns, start=1):
        cell = ws.cell(header_row, col, c.title)
        cell.font, cell.fill, cell.border = head_font, head_fill, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    row_no = header_row
    for values in rows:
        row_no += 1
        for col, c in enumerate(columns, start=1):
            value = cell_value(c.kind, values[col - 1] if col - 1 < len(values) else None)
            cell = ws.cell(row_no, col, value)
            cell.border = BORDER
            if c.format and not isinstance(value, str):
                cell.number_format = c.format
            if c.kind == "text":
                cell.alignment = Alignment(vertical="top", wrap_text=True)
                if value is not None:
                    widths[col - 1] = max(widths[col - 1], _text_width(str(value)) + 2)
    for col, c in enumerate(columns, start=1):
        w = c.width if c.width is not None else (
            min(max(widths[col - 1], 8), MAX_TEXT_WIDTH) if c.kind == "text"
            else max(DEFAULT_WIDTHS[c.kind], min(widths[col - 1], 20)))
        ws.column_dimensions[get_column_letter(col)].width = w
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    if columns:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns))}{max(row_no, header_row)}"
    return row_no


def _total_width(columns: Sequence[Column]) -> float:
    return sum(c.width or DEFAULT_WIDTHS.get(c.kind, 14) for c in columns)


def to_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def chinese_date(when: dt.date | dt.datetime) -> str:
    """2026-12-04 → 2026 年 12 月 4 日 (as the service's pages write dates); a datetime adds the time of
    day (Tongxiang time)."""
    if isinstance(when, dt.datetime):
        t = when.astimezone(TIMEZONE) if when.tzinfo else when
        return message("excel_datetime", year=t.year, month=t.month, day=t.day, time=t.strftime("%H:%M"))
    return message("excel_date", year=when.year, month=when.month, day=when.day)


def date_line(label: str, when: dt.datetime | dt.date) -> str:
    """e.g. 导出时间：2026 年 12 月 4 日 10:20 (labels: message("excel_exported_at"), message("excel_data_as_of"))."""
    return message("excel_date_line", label=label, date=chinese_date(when))


def exported_line(when: dt.datetime | None = None) -> str:
    """导出时间：… for now (or ``when``)."""
    return date_line(message("excel_exported_at"), when or dt.datetime.now(TIMEZONE))
