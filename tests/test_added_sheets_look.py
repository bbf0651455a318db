"""What a person sees on the sheets xlplugin adds, whatever the workbook's own defaults: a
template whose Normal style wraps and indents (Microsoft's budget templates) must not wrap the
Summary's titles into their rows, and the doughnut's labels are its percentages only (every
data-label flag written, as Excel writes them: LibreOffice reads a missing one as on for such
workbooks)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl

from tests.plan_factory import make_plan
from tests.test_cli import cli
from tests.test_summary import HEADERS, gen_rows

WRAP = '<alignment horizontal="left" wrapText="1" indent="1"/>'


def _wrapping_normal(src: Path, dst: Path) -> None:
    """src with cellStyleXfs[0] and cellXfs[0] (the Normal style) wrapping and indenting."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/styles.xml":
                text = data.decode("utf-8")
                for container in ("cellStyleXfs", "cellXfs"):
                    text = re.sub(rf"(<{container}[^>]*>\s*<xf\b[^>]*?)(/>|>)",
                                  lambda m: m.group(1) + ">" + WRAP + ("</xf>" if m.group(2) == "/>" else ""),
                                  text, count=1)
                data = text.encode("utf-8")
            zout.writestr(item, data)


def test_summary_text_does_not_wrap_and_doughnut_labels_show_percent_only(tmp_path: Path) -> None:
    rows, _ = gen_rows(12, seed=3)
    plain = make_plan(tmp_path / "plain.xlsx", rows, HEADERS)
    src = tmp_path / "template.xlsx"
    _wrapping_normal(plain, src)
    assert openpyxl.load_workbook(src)["Plan"]["A1"].alignment.wrap_text   # the template wraps
    out = tmp_path / "out"
    r = cli("run", str(src), "--out", str(out))
    assert r.returncode in (0, 1), r.stderr
    result = out / src.name
    wb = openpyxl.load_workbook(result)
    summary = wb["Summary"]
    texts = [c for row in summary.iter_rows() for c in row if isinstance(c.value, str) and c.value]
    assert len(texts) > 20
    assert not [c.coordinate for c in texts if c.alignment.wrap_text or c.alignment.indent]
    assert not [c.coordinate for row in wb["Validation"].iter_rows() for c in row
                if isinstance(c.value, str) and c.alignment.indent]
    # the plan's own cells keep the template's style
    assert wb["Plan"]["A1"].alignment.wrap_text
    with zipfile.ZipFile(result) as z:
        charts = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/charts/chart")]
    doughnut = next(c for c in charts if "<c:doughnutChart>" in c)
    labels = re.search(r"<c:dLbls>(.*?)</c:dLbls>", doughnut, re.S).group(1)
    flags = dict(re.findall(r'<c:(show\w+) val="([01])"/>', labels))
    assert flags == {"showLegendKey": "0", "showVal": "0", "showCatName": "0", "showSerName": "0",
                     "showPercent": "1", "showBubbleSize": "0"}
