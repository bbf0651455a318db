"""Charts on a sheet the tool makes: chart XML from XlsxWriter's serialisers, plus
the drawing part (one xdr:twoCellAnchor graphicFrame per chart) that places them.

XlsxWriter's chart classes are driven the way its Workbook does at close():
add_series() registers each range formula, `formula_data` gets the cached values
(the role of Workbook._add_chart_data), `id` is set (Worksheet._prepare_chart), and
`_assemble_xml_file()` writes the part into a StringIO.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from xml.sax.saxutils import quoteattr

from xlplugin.changes import ChartSpec
from xlplugin.model import CellValue

NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RT_DRAWING = NS_R + "/drawing"
RT_CHART = NS_R + "/chart"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
EMU_PER_PX = 9525
ROW_PX = 20  # default row height, 15 pt

# ref -> cached values for that range (None when unknown: no cache is written)
DataLookup = Callable[[str], list[CellValue] | None]


def _make_chart(kind: str):
    if kind == "doughnut":
        from xlsxwriter.chart_doughnut import ChartDoughnut
        return ChartDoughnut()
    if kind == "column_stacked":
        from xlsxwriter.chart_column import ChartColumn
        return ChartColumn({"subtype": "stacked"})
    if kind == "bar_clustered":
        from xlsxwriter.chart_bar import ChartBar
        return ChartBar()
    raise ValueError(f"unknown chart kind {kind!r}")


def chart_xml(spec: ChartSpec, data: DataLookup, chart_id: int = 0) -> bytes:
    """The chart part (c:chartSpace) for a ChartSpec; every series points at its ranges."""
    if not spec.series:
        raise ValueError(f"chart {spec.title!r} has no series")
    chart = _make_chart(spec.kind)
    for s in spec.series:
        opts: dict = {"name": s.name, "values": "=" + s.values.lstrip("="),
                      "categories": "=" + s.categories.lstrip("=")}
        if s.color and spec.kind != "doughnut":   # a doughnut varies colour per point
            opts["fill"] = {"color": "#" + s.color.lstrip("#")}
        if s.point_colors:
            opts["points"] = [{"fill": {"color": "#" + c.lstrip("#")}} for c in s.point_colors]
        if spec.data_labels:
            opts["data_labels"] = _data_labels(spec)
        chart.add_series(opts)
    if spec.title:
        chart.set_title({"name": spec.title})
    if spec.kind == "doughnut":
        chart.set_legend({"position": "right"})
    else:   # category labels beside the plot, values formatted like the table's
        # (XlsxWriter's bar chart swaps the axes: its x axis is the horizontal value axis)
        value_axis, cat_axis = ((chart.set_x_axis, chart.set_y_axis) if spec.kind == "bar_clustered"
                                else (chart.set_y_axis, chart.set_x_axis))
        cat_axis({"label_position": "low", "reverse": spec.kind == "bar_clustered"})
        if spec.number_format:
            value_axis({"num_format": spec.number_format})
        chart.set_legend({"position": "bottom"})
    for ref, idx in chart.formula_ids.items():
        values = data(ref)
        if values is not None:
            chart.formula_data[idx] = [_cache_value(v) for v in values]
    chart.id = chart_id
    buf = io.StringIO()
    chart._set_xml_writer(buf)
    chart._assemble_xml_file()
    return _explicit_labels(buf.getvalue()).encode("utf-8")


_SHOWS = ("showLegendKey", "showVal", "showCatName", "showSerName", "showPercent", "showBubbleSize")
_SHOW = re.compile(r'<c:(' + "|".join(_SHOWS) + r') val="([01])"/>')


def _explicit_labels(xml: str) -> str:
    """Data labels with every show* flag written, as Excel writes them.  XlsxWriter writes the
    ones that are on; a reader may take a missing one as on (LibreOffice does for some
    workbooks: a doughnut's percent label became 'Review; Budget; 7,300; 20%')."""
    def full(m: re.Match) -> str:
        inner = m.group(1)
        on = {name for name, val in _SHOW.findall(inner) if val == "1"}
        rest = _SHOW.sub("", inner)
        at = min([i for i in (rest.find("<c:separator"), rest.find("<c:showLeaderLines"), rest.find("<c:extLst"))
                  if i >= 0], default=len(rest))
        flags = "".join(f'<c:{name} val="{int(name in on)}"/>' for name in _SHOWS)
        return f"<c:dLbls>{rest[:at]}{flags}{rest[at:]}</c:dLbls>"
    return re.sub(r"<c:dLbls>(.*?)</c:dLbls>", full, xml, flags=re.S)


def _data_labels(spec: ChartSpec) -> dict:
    if spec.kind == "doughnut":
        return {"percentage": True}
    labels: dict = {"value": True}
    if spec.number_format:
        labels["num_format"] = spec.number_format
    return labels


def _cache_value(v: CellValue) -> CellValue:
    # XlsxWriter caches numbers and strings; anything else shows as text.
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)   # "30000", as Excel caches it, not "30000.0"
    if isinstance(v, (int, float, str)):
        return v
    return str(v)


def _walk(start: int, length_px: int, size: Callable[[int], int]) -> tuple[int, int]:
    """From 0-based index `start`, advance length_px: (0-based end index, offset px)."""
    i, rest = start, length_px
    while rest >= size(i + 1) and size(i + 1) > 0:
        rest -= size(i + 1)
        i += 1
    return i, rest


def drawing_xml(charts: Sequence[tuple[ChartSpec, str]], col_px: Callable[[int], int],
                row_px: Callable[[int], int] = lambda r: ROW_PX) -> bytes:
    """The drawing part: (spec, chart rel id) pairs anchored at their cells.

    col_px/row_px give the pixel size of a 1-based column/row, so the anchor's
    `to` cell matches width_px x height_px."""
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             f'<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}">']
    for n, (spec, rid) in enumerate(charts, start=1):
        c0, r0 = spec.anchor_col - 1, spec.anchor_row - 1
        c1, cx = _walk(c0, spec.width_px, col_px)
        r1, rx = _walk(r0, spec.height_px, row_px)
        name = quoteattr(f"Chart {n}")
        parts.append(
            '<xdr:twoCellAnchor editAs="oneCell">'
            f"<xdr:from><xdr:col>{c0}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{r0}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f"<xdr:to><xdr:col>{c1}</xdr:col><xdr:colOff>{cx * EMU_PER_PX}</xdr:colOff>"
            f"<xdr:row>{r1}</xdr:row><xdr:rowOff>{rx * EMU_PER_PX}</xdr:rowOff></xdr:to>"
            '<xdr:graphicFrame macro="">'
            f'<xdr:nvGraphicFramePr><xdr:cNvPr id="{n + 1}" name={name}/>'
            "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
            '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            f'<a:graphic><a:graphicData uri="{NS_C}">'
            f'<c:chart xmlns:c="{NS_C}" xmlns:r="{NS_R}" r:id="{rid}"/>'
            "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/>"
            "</xdr:twoCellAnchor>")
    parts.append("</xdr:wsDr>")
    return "".join(parts).encode("utf-8")
