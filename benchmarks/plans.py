"""Benchmark plans: generated once, cached under benchmarks/.cache/ (gitignored).

The package is written directly (a minimal SpreadsheetML package, inline strings,
one date style), streamed row by row into the zip, so the 1,048,575-row plan takes
seconds to make and little memory.  `bad=True` makes every row break a rule (the end
date is before the start date), so every row has a finding.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
HEADERS = ["ID", "Activity", "Description", "Channel", "Owner", "Start Date", "End Date",
           "Status", "Budget", "Actual", "KPI", "Leads", "Conversions", "Revenue"]
CHANNELS = ["Search", "Social", "Events", "Email", "Research"]
ACTIVITIES = ["Paid search campaign", "Retargeting ads", "Focus groups", "Brand survey",
              "Trade show booth", "Newsletter", "Webinar series", "Social video"]
UPSTREAM_ACTIVITIES = {"Focus groups", "Brand survey", "Webinar series", "Social video"}
OWNERS = ["Dana", "Luis", "Priya", "Sam"]

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/worksheets/sheet2.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/styles.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
       '<sheets><sheet name="Plan" sheetId="1" r:id="rId1"/><sheet name="Notes" sheetId="2" r:id="rId2"/>'
       '</sheets><calcPr calcId="191029"/></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet2.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'styles" Target="styles.xml"/></Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
           '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">')
_NOTES = (_SHEET_HEAD + '<dimension ref="A1"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Other sheet'
          "</t></is></c></row></sheetData></worksheet>")
_EPOCH = dt.date(1899, 12, 30)


def _s(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _row(r: int, i: int, bad: bool) -> str:
    start = (dt.date(2027, 1, 1) - _EPOCH).days + i % 300
    end = start - 5 if bad else start + 30
    ch, act = CHANNELS[i % 5], ACTIVITIES[i % 8]
    leads = 1 + i % 300
    kpi = "Concept score" if act in UPSTREAM_ACTIVITIES else "Leads"
    return (f'<row r="{r}">' + _s(f"A{r}", f"A-{i:07d}") + _s(f"B{r}", f"{act} {i}")
            + _s(f"C{r}", f"{act} for {ch}, wave {i % 12}") + _s(f"D{r}", ch) + _s(f"E{r}", OWNERS[i % 4])
            + f'<c r="F{r}" s="1"><v>{start}</v></c><c r="G{r}" s="1"><v>{end}</v></c>'
            + _s(f"H{r}", "Planned") + f'<c r="I{r}"><v>{1000 + i % 977}</v></c><c r="J{r}"><v>{900 + i % 1013}</v></c>'
            + _s(f"K{r}", kpi) + f'<c r="L{r}"><v>{leads}</v></c><c r="M{r}"><v>{min(leads, 1 + i % 40)}</v></c>'
            + f'<c r="N{r}"><v>{3000 + i % 5000}</v></c></row>')


def write_plan(path: Path, rows: int, bad: bool = False) -> Path:
    """A plan of `rows` data rows under one header row, on sheet "Plan"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        z.writestr("xl/worksheets/sheet2.xml", _NOTES)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            head = "".join(_s(f"{chr(65 + j)}1", h) for j, h in enumerate(HEADERS))
            f.write((_SHEET_HEAD + f'<dimension ref="A1:N{rows + 1}"/><sheetData><row r="1">{head}</row>').encode())
            chunk: list[str] = []
            for i in range(1, rows + 1):
                chunk.append(_row(i + 1, i, bad))
                if len(chunk) == 5000:
                    f.write("".join(chunk).encode())
                    chunk.clear()
            f.write(("".join(chunk) + "</sheetData></worksheet>").encode())
    tmp.replace(path)
    return path


def plan(rows: int, bad: bool = False) -> Path:
    """The cached plan of this size (made on first use)."""
    path = CACHE / f"plan-{rows}{'-bad' if bad else ''}.xlsx"
    return path if path.exists() else write_plan(path, rows, bad)
