"""The analytics tables as pictures: SVG charts drawn on the server (pygal) and written
into the page, and the interest x tag matrix as a heat map made of an HTML table.

Nothing runs in the browser and nothing is fetched from elsewhere: pygal's own script
(tooltips, fetched from a CDN by default) is turned off and its inline configuration
script dropped. A chart is a picture of the table that follows it on the page; the
table is what a screen reader reads.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree

import pygal
from markupsafe import Markup
from pygal.style import Style

from app.services.analytics import Row, Table
from scoring.analytics import Period

# pygal adds a legacy import hook for map plugins (pygal.maps.*, unused here) to the
# end of sys.meta_path; Python 3.11 then warns (ImportWarning) on every import that
# reaches it, such as a library trying an optional module, which the test suite's
# warnings-as-errors turns into failures far from here. Chorus draws no maps.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)
]

# The page's palette (static/chorus.css), measured clicks first in the accent colour.
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d2433",
    foreground_strong="#1d2433",
    foreground_subtle="#5b6475",
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    colors=("#2f5bd3", "#1d7a46", "#a15c00", "#8e44ad", "#b3261e"),
    guide_stroke_color="#d9dde5",
    major_guide_stroke_color="#d9dde5",
    # Drawn 480 wide and scaled to the page: on a 390 px phone to about 0.7, where
    # these sizes still read as small print; on a desktop to 1.2.
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=15,
    value_font_size=15,
    stroke_width="2.5",
    opacity=".85",
    opacity_hover=".85",
)
WIDTH, HEIGHT = 480, 320
BAR_HEIGHT = 44  # per row of a bar chart, its bars side by side
SVG = "{http://www.w3.org/2000/svg}"

# What each table's chart draws, measured clicks first.
FIGURES = {
    "time": ("clicks", "clicks_on_shares", "shares"),
    "content": ("clicks", "shares"),
    "top_content": ("clicks", "shares"),
    "network": ("clicks", "shares"),
    "team": ("clicks", "shares"),
    "persona": ("clicks", "shares"),
    "advocates": ("clicks", "shares"),
}
BARS_SHOWN = 10  # a longer breakdown is in its table; the chart shows the most clicked


def chart(table: Table, title: str, heading_id: str, period: Period) -> Markup | None:
    """The table's chart as inline SVG, or None for a table drawn otherwise (the
    matrix) or with nothing to draw."""
    figures = FIGURES.get(table.name)
    rows = [row for row in table.rows if not row.withheld]
    if figures is None or not rows:
        return None
    labels = {column.name: column.label for column in table.columns}
    if table.name == "time":
        drawing = pygal.Line(
            **_config(HEIGHT),
            show_minor_x_labels=False,
            include_x_axis=True,
            truncate_label=-1,
            margin_bottom=30,  # pygal leaves no room for the legend's second row
        )
        drawing.x_labels = [short_period(date.fromisoformat(row.key), period) for row in table.rows]
        drawing.x_labels_major_count = 4  # labels that fit side by side
        # Withheld periods are gaps in the line: no figure, not zero.
        for name in figures:
            drawing.add(labels[name], [_value(row, name) for row in table.rows])
    else:
        rows = _most_clicked(rows)[:BARS_SHOWN]
        height = 90 + BAR_HEIGHT * len(rows)
        drawing = pygal.HorizontalBar(**_config(height), truncate_label=22)
        # Horizontal bars list from the bottom up: reversed, the most clicked is on top.
        drawing.x_labels = [row.label for row in reversed(rows)]
        for name in figures:
            drawing.add(labels[name], [_value(row, name) for row in reversed(rows)])
    drawing.add_xml_filter(_accessible(title, heading_id))
    # Safe: pygal writes the SVG with ElementTree, which escapes every label it holds.
    return Markup(drawing.render(is_unicode=True))  # noqa: S704


def _config(height: int) -> dict:
    return {
        "style": STYLE,
        "width": WIDTH,
        "height": height,
        "explicit_size": False,  # a viewBox only: the page's CSS scales it to the column
        "js": [],  # no tooltip script from a CDN
        "disable_xml_declaration": True,  # written inside the HTML page
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 2,
        "truncate_legend": -1,
        "show_y_guides": True,
        "margin": 8,
        "margin_right": 36,  # room for the last date label, centred on its point
        "print_values": False,
        "no_data_text": "No figures",
        "classes": ["pygal-chart", "chart-svg"],
    }


def _accessible(title: str, heading_id: str) -> Callable:
    """Drop pygal's scripts and comments, name the picture by the page's heading.

    The SVG is ``role="img"`` labelled by the visible heading: a screen reader announces
    one named picture (so a reader knows a chart is there when a colleague talks about
    it) instead of reading every axis label, and then reads the table below, which holds
    the same figures. Hiding it (aria-hidden) would leave them unaware of the chart.
    """

    def apply(root: ElementTree.Element) -> ElementTree.Element:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag in (f"{SVG}script", "script", ElementTree.Comment):
                    parent.remove(child)
        for element in root.iter():
            if element.tag in (f"{SVG}title", "title"):
                element.text = title
                break
        root.set("role", "img")
        root.set("aria-labelledby", heading_id)
        return root

    return apply


def _value(row: Row, name: str) -> int | float | None:
    return None if row.withheld else row.values.get(name)


def _most_clicked(rows: Sequence[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: -(row.values.get("clicks") or 0))


def short_period(start: date, period: Period) -> str:
    """A period as an axis label: 03 Dec, 30 Nov (a week's first day), Dec 2026."""
    if period is Period.MONTH:
        return f"{start:%b %Y}"
    return f"{start:%d %b}"


# The heat map ------------------------------------------------------------------------

ACCENT_RGB = "47, 91, 211"  # --accent
PALEST, DARKEST = 0.06, 0.9  # the opacity of the smallest and the largest value
WHITE_TEXT_FROM = 0.55  # the text turns white where the shade is this dark


@dataclass(frozen=True)
class Cell:
    clicks: int | None  # None: withheld
    shares: int | None
    opacity: float = 0.0

    @property
    def withheld(self) -> bool:
        return self.clicks is None

    @property
    def style(self) -> str:
        if self.withheld or self.opacity == 0:
            return ""
        ink = "color: #fff; " if self.opacity >= WHITE_TEXT_FROM else ""
        return f"{ink}background: rgba({ACCENT_RGB}, {self.opacity:.2f});"


@dataclass(frozen=True)
class HeatMap:
    interests: list[str]
    tags: list[str]
    cells: dict[tuple[str, str], Cell]  # (interest, tag); missing: nobody shared

    def cell(self, interest: str, tag: str) -> Cell:
        return self.cells.get((interest, tag), Cell(0, 0))


def heat_map(table: Table) -> HeatMap:
    """The matrix table as interests (rows) by tags (columns), each cell shaded by the
    counted clicks on its shares, relative to the largest cell shown."""
    cells: dict[tuple[str, str], Cell] = {}
    for row in table.rows:
        tag = row.key.split(":", 1)[1]
        interest = row.label.removesuffix(f" / {tag}")
        if row.withheld:
            cells[interest, tag] = Cell(None, None)
        else:
            clicks, shares = row.values["clicks_on_shares"], row.values["shares"]
            cells[interest, tag] = Cell(int(clicks or 0), int(shares or 0))
    most = max((cell.clicks or 0 for cell in cells.values()), default=0)
    if most:
        cells = {
            key: cell
            if cell.withheld or not cell.clicks
            else Cell(cell.clicks, cell.shares, PALEST + (DARKEST - PALEST) * cell.clicks / most)
            for key, cell in cells.items()
        }
    interests = sorted({interest for interest, _tag in cells})
    tags = sorted({tag for _interest, tag in cells})
    return HeatMap(interests, tags, cells)
