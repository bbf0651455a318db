"""Portfolio roll-up: one new workbook with a row per plan, totals by stage, and charts.

Each plan goes through the pipeline's own pieces (read, locate, parse, label, check:
`pipeline.analyse`), so the roll-up's figures are the Summary sheet's figures.  The
roll-up is a new file (never a user's), so XlsxWriter writes it whole; figures that
can be are live formulas over the Plans sheet, each with its cached value.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from xlplugin.config import Config
from xlplugin.errors import XlpluginError
from xlplugin.render.summary.layout import ACTUAL_COLOR, BUDGET_COLOR, STAGE_COLORS, STAGE_ROWS

STAGE_COLS = STAGE_ROWS
COLORS = {s: "#" + c for s, c in STAGE_COLORS.items()}   # the Summary's palette
REGION_HEADERS = ("region", "market", "geo", "geography", "territory", "country")


@dataclass
class PlanRow:
    path: Path
    region: str = ""
    owner: str = ""
    rows: int = 0
    budget: dict[str, float] = field(default_factory=dict)
    actual: dict[str, float] = field(default_factory=dict)
    quarters: dict[tuple[str, str], float] = field(default_factory=dict)   # (quarter, stage) -> budget
    errors: int = 0
    warnings: int = 0
    problem: str = ""          # the file could not be read: one line


def mapped(path: Path, config: Config | None) -> dict[str, str]:
    """Region/owner set for this plan in xlplugin.toml ([rollup.plans]: a file name or a
    glob over the path, later entries adding to earlier ones)."""
    out: dict[str, str] = {}
    posix = path.as_posix()
    for pattern, values in (config.rollup_plans if config else {}).items():
        if path.name == pattern or fnmatch.fnmatch(posix, pattern) or fnmatch.fnmatch(posix, f"*/{pattern}"):
            out.update(values)
    return out


def column_value(a, header_words: tuple[str, ...], fld: str | None = None) -> str:
    """The plan's own value of a column (by field, else by header) in analysis `a`: the one
    value its rows hold, or the first few joined; "" when there is no such column."""
    plan = a.parsed.plan
    col = plan.fields.get(fld) if fld else None
    if col is None:
        col = next((c for c in plan.columns if c.header.strip().casefold() in header_words), None)
    if col is None or a.grid is None:
        return ""
    values = (a.grid.value(r, col.col) for r in plan.data_rows)
    seen = list(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))
    return ", ".join(seen[:3]) + (f" (+{len(seen) - 3})" if len(seen) > 3 else "")


def _plan_row(path: Path, config: Config | None) -> PlanRow:
    from xlplugin.pipeline import ALL_STEPS, Options, analyse
    from xlplugin.render.metric_columns import plan_data
    from xlplugin.render.summary.quarters import quarter_of

    given = mapped(path, config)
    row = PlanRow(path=path, owner=given.get("owner", ""), region=given.get("region", ""))
    try:
        a = analyse(path, Options(steps=ALL_STEPS, write=False), config=config)
    except XlpluginError as e:
        row.problem = e.message
        return row
    except Exception as e:  # one odd file never stops the roll-up
        row.problem = f"unexpected {e.__class__.__name__}: {e}"
        return row
    row.owner = row.owner or column_value(a, ("owner",), "owner")
    row.region = row.region or column_value(a, REGION_HEADERS)
    d = plan_data(a.parsed, a.labels)
    row.rows = len(d)
    row.errors = sum(f.severity == "error" for f in a.findings)
    row.warnings = sum(f.severity == "warning" for f in a.findings)
    for stage in STAGE_COLS:
        sel = d["stage"] == stage
        row.budget[stage] = float(d.loc[sel, "budget"].sum()) if "budget" in d else 0.0
        row.actual[stage] = float(d.loc[sel, "actual"].sum()) if "actual" in d else 0.0
    if "budget" in d and "start" in d:
        fy = (config or a.config).fiscal_year_start
        for start, stage, budget in zip(d["start"], d["stage"], d["budget"], strict=True):
            if start is None or start != start or budget != budget:
                continue
            q = quarter_of(start.date(), fy).label
            row.quarters[(q, stage)] = row.quarters.get((q, stage), 0.0) + float(budget)
    return row


def _link(target: Path, out: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), out.resolve().parent)).as_posix()
    except ValueError:   # another drive on Windows
        return target.resolve().as_uri()


def rollup(paths: list[Path], out: Path, config: Config) -> Path:
    """Write the roll-up workbook for `paths` (files) to `out`; returns `out`.

    Atomic: written to a temporary file beside `out`, then renamed."""
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise XlpluginError("the roll-up is written as .xlsx; name the output NAME.xlsx", file=str(out))
    rows = [_plan_row(Path(p), config) for p in paths]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".rollup-", suffix=".xlsx", dir=out.parent)
    os.close(fd)
    try:
        _write(rows, Path(tmp), out, config)
        os.replace(tmp, out)
    except OSError as e:
        raise XlpluginError(f"cannot write the roll-up ({e.strerror or e})", file=str(out)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def _write(rows: list[PlanRow], tmp: Path, out: Path, config: Config) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
    f = _formats(wb)
    overview = wb.add_worksheet("Portfolio")
    ws = wb.add_worksheet("Plans")
    quarters_ws = wb.add_worksheet("Quarters")
    for sheet in (overview, ws, quarters_ws):   # printed: landscape, one page wide
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    col, tr, totals = _plans_sheet(ws, rows, out, f)
    quarters = _quarters_sheet(quarters_ws, rows, f)
    _portfolio_sheet(overview, rows, col, tr, totals, config, f)
    _charts(wb, overview, rows, col, quarters)
    wb.close()


def _formats(wb) -> dict:
    return {
        "bold": wb.add_format({"bold": True}),
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": True}),
        "money": wb.add_format({"num_format": "#,##0"}),
        "money_b": wb.add_format({"num_format": "#,##0", "bold": True}),
        "pct": wb.add_format({"num_format": "0.0%"}),
        "pct_b": wb.add_format({"num_format": "0.0%", "bold": True}),
        "link": wb.add_format({"font_color": "#0563C1", "underline": 1}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "when": wb.add_format({"num_format": "yyyy-mm-dd hh:mm", "align": "left"}),
    }


def _plans_sheet(ws, rows: list[PlanRow], out: Path, f: dict) -> tuple[dict[str, int], int, dict[str, float]]:
    """One row per plan, a Total row: (column of each header, total row, totals)."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    head, money, money_b, pct = f["head"], f["money"], f["money_b"], f["pct"]
    headers = (["Plan", "Region", "Owner", "Rows"]
               + [f"{s} budget" for s in STAGE_COLS] + ["Total budget"]
               + [f"{s} actual" for s in STAGE_COLS] + ["Total actual", "Variance"]
               + [f"{s} share" for s in STAGE_COLS]
               + ["Errors", "Warnings", "Problem", "File"])
    col = {h: i for i, h in enumerate(headers)}
    ws.set_row(0, 30)
    for j, h in enumerate(headers):
        ws.write_string(0, j, h, head)
    ws.freeze_panes(1, 1)
    for i, p in enumerate(rows, start=1):
        ws.write_string(i, col["Plan"], p.path.name)
        for name, value in (("Region", p.region), ("Owner", p.owner)):
            if value:   # unknown stays blank, never a guess
                ws.write_string(i, col[name], value)
        ws.write_number(i, col["Rows"], p.rows)
        tb = sum(p.budget.get(s, 0.0) for s in STAGE_COLS)
        ta = sum(p.actual.get(s, 0.0) for s in STAGE_COLS)
        for s in STAGE_COLS:
            ws.write_number(i, col[f"{s} budget"], p.budget.get(s, 0.0), money)
            ws.write_number(i, col[f"{s} actual"], p.actual.get(s, 0.0), money)
        b0, b1 = xl_rowcol_to_cell(i, col["Upstream budget"]), xl_rowcol_to_cell(i, col["Not labelled budget"])
        a0, a1 = xl_rowcol_to_cell(i, col["Upstream actual"]), xl_rowcol_to_cell(i, col["Not labelled actual"])
        tbc, tac = xl_rowcol_to_cell(i, col["Total budget"]), xl_rowcol_to_cell(i, col["Total actual"])
        ws.write_formula(i, col["Total budget"], f"=SUM({b0}:{b1})", money_b, tb)
        ws.write_formula(i, col["Total actual"], f"=SUM({a0}:{a1})", money_b, ta)
        ws.write_formula(i, col["Variance"], f"={tac}-{tbc}", money, ta - tb)
        for s in STAGE_COLS:
            bc = xl_rowcol_to_cell(i, col[f"{s} budget"])
            ws.write_formula(i, col[f"{s} share"], f'=IF({tbc}<>0,{bc}/{tbc},"")', pct,
                             p.budget.get(s, 0.0) / tb if tb else "")
        ws.write_number(i, col["Errors"], p.errors)
        ws.write_number(i, col["Warnings"], p.warnings)
        ws.write_string(i, col["Problem"], p.problem)
        ws.write_url(i, col["File"], "external:" + _link(p.path, out), f["link"], p.path.name)
    tr = _plan_totals(ws, rows, col, f)
    totals = _totals_of(rows)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 3, 12)
    ws.set_column(4, col["Warnings"], 13)
    ws.set_column(col["Problem"], col["Problem"], 40)
    ws.set_column(col["File"], col["File"], 30)
    return col, tr, totals


def _totals_of(rows: list[PlanRow]) -> dict[str, float]:
    """The Total row's values (cached under its SUM formulas)."""
    totals: dict[str, float] = {"Rows": float(sum(p.rows for p in rows)),
                                "Errors": float(sum(p.errors for p in rows)),
                                "Warnings": float(sum(p.warnings for p in rows))}
    for what in ("budget", "actual"):
        for s in STAGE_COLS:
            totals[f"{s} {what}"] = sum(getattr(p, what).get(s, 0.0) for p in rows)
        totals[f"Total {what}"] = sum(sum(getattr(p, what).values()) for p in rows)
    totals["Variance"] = totals["Total actual"] - totals["Total budget"]
    return totals


def _plan_totals(ws, rows: list[PlanRow], col: dict[str, int], f: dict) -> int:
    """The Plans sheet's Total row (SUMs, and each stage's share); returns its row."""
    from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

    n, tr, totals = len(rows), len(rows) + 1, _totals_of(rows)
    ws.write_string(tr, 0, "Total", f["bold"])
    for h, v in totals.items():
        letter = xl_col_to_name(col[h])
        formula = f"=SUM({letter}2:{letter}{n + 1})" if n else "=0"
        money = "budget" in h or "actual" in h or h == "Variance"
        ws.write_formula(tr, col[h], formula, f["money_b"] if money else f["bold"], v)
    tbc = xl_rowcol_to_cell(tr, col["Total budget"])
    for s in STAGE_COLS:
        bc, tb = xl_rowcol_to_cell(tr, col[f"{s} budget"]), totals["Total budget"]
        ws.write_formula(tr, col[f"{s} share"], f'=IF({tbc}<>0,{bc}/{tbc},"")', f["pct_b"],
                         totals[f"{s} budget"] / tb if tb else "")
    return tr


def _quarters_sheet(quarters_ws, rows: list[PlanRow], f: dict) -> list[str]:
    """Budget by quarter and stage across plans (values: they come from many files)."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    head, money, money_b = f["head"], f["money"], f["money_b"]
    quarters = sorted({q for p in rows for q, _ in p.quarters}, key=lambda q: (q[2:4], q[-1]))
    quarters_ws.write_string(0, 0, "Quarter", head)
    for j, s in enumerate(STAGE_COLS, start=1):
        quarters_ws.write_string(0, j, s, head)
    quarters_ws.write_string(0, len(STAGE_COLS) + 1, "Total", head)
    for i, q in enumerate(quarters, start=1):
        quarters_ws.write_string(i, 0, q)
        vals = [sum(p.quarters.get((q, s), 0.0) for p in rows) for s in STAGE_COLS]
        for j, v in enumerate(vals, start=1):
            quarters_ws.write_number(i, j, v, money)
        a, b = xl_rowcol_to_cell(i, 1), xl_rowcol_to_cell(i, len(STAGE_COLS))
        quarters_ws.write_formula(i, len(STAGE_COLS) + 1, f"=SUM({a}:{b})", money_b, sum(vals))
    quarters_ws.set_column(0, len(STAGE_COLS) + 1, 14)
    return quarters


def _portfolio_sheet(overview, rows: list[PlanRow], col: dict[str, int], tr: int, totals: dict[str, float],
                     config: Config, f: dict) -> None:
    """The header and the totals by stage against the floor (formulas over Plans)."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    bold, head, money, pct, title = f["bold"], f["head"], f["money"], f["pct"], f["title"]
    n = len(rows)
    overview.write_string(0, 0, "Marketing plan portfolio", title)
    overview.write_string(1, 0, "Plans", bold)
    overview.write_number(1, 1, n)
    overview.write_string(2, 0, "Produced", bold)
    overview.write_datetime(2, 1, dt.datetime.now().replace(microsecond=0), f["when"])
    overview.write_string(3, 0, "Errors", bold)
    overview.write_formula(3, 1, f"=Plans!{xl_rowcol_to_cell(tr, col['Errors'])}", None, totals["Errors"])
    overview.write_string(4, 0, "Warnings", bold)
    overview.write_formula(4, 1, f"=Plans!{xl_rowcol_to_cell(tr, col['Warnings'])}", None, totals["Warnings"])
    unread = sum(1 for p in rows if p.problem)
    overview.write_string(5, 0, "Unreadable files", bold)
    overview.write_number(5, 1, unread)
    for j, h in enumerate(["Stage", "Budget", "Share of budget", "Actual", "Floor", "Status"]):
        overview.write_string(7, j, h, head)
    tb = totals["Total budget"]
    for k, s in enumerate(STAGE_COLS):
        r = 8 + k
        overview.write_string(r, 0, s)
        bref = f"Plans!{xl_rowcol_to_cell(tr, col[f'{s} budget'])}"
        aref = f"Plans!{xl_rowcol_to_cell(tr, col[f'{s} actual'])}"
        overview.write_formula(r, 1, f"={bref}", money, totals[f"{s} budget"])
        share = totals[f"{s} budget"] / tb if tb else ""
        overview.write_formula(r, 2, f'=IF(Plans!{xl_rowcol_to_cell(tr, col["Total budget"])}<>0,'
                               f'{xl_rowcol_to_cell(r, 1)}/Plans!{xl_rowcol_to_cell(tr, col["Total budget"])},"")',
                               pct, share)
        overview.write_formula(r, 3, f"={aref}", money, totals[f"{s} actual"])
        if s in ("Upstream", "Downstream"):
            overview.write_number(r, 4, config.stage_floor, pct)
            status = "No budget" if share == "" else ("OK" if share >= config.stage_floor else "Below floor")
            c2, c4 = xl_rowcol_to_cell(r, 2), xl_rowcol_to_cell(r, 4)
            overview.write_formula(r, 5, f'=IF({c2}="","No budget",IF({c2}>={c4},"OK","Below floor"))',
                                   bold, status)
    overview.set_column(0, 0, 22)
    overview.set_column(1, 5, 15)


def _charts(wb, overview, rows: list[PlanRow], col: dict[str, int], quarters: list[str]) -> None:
    """The Summary's charts, across plans, in the Summary's colours."""
    n, first, last = len(rows), 1, len(rows)
    pie = wb.add_chart({"type": "doughnut"})
    pie.add_series({"name": "Budget", "categories": ["Portfolio", 8, 0, 11, 0],
                    "values": ["Portfolio", 8, 1, 11, 1],
                    "points": [{"fill": {"color": COLORS[s]}} for s in STAGE_COLS]})
    pie.set_title({"name": "Budget by stage, all plans"})
    overview.insert_chart(1, 7, pie)
    if quarters:
        stacked = wb.add_chart({"type": "column", "subtype": "stacked"})
        for j, s in enumerate(STAGE_COLS, start=1):
            stacked.add_series({"name": s, "categories": ["Quarters", 1, 0, len(quarters), 0],
                                "values": ["Quarters", 1, j, len(quarters), j], "fill": {"color": COLORS[s]}})
        stacked.set_title({"name": "Budget by quarter and stage, all plans"})
        overview.insert_chart(17, 7, stacked)
    if n:
        by_plan = wb.add_chart({"type": "column", "subtype": "stacked"})
        for s in STAGE_COLS:
            c = col[f"{s} budget"]
            by_plan.add_series({"name": s, "categories": ["Plans", first, 0, last, 0],
                                "values": ["Plans", first, c, last, c], "fill": {"color": COLORS[s]}})
        by_plan.set_title({"name": "Budget by plan and stage"})
        overview.insert_chart(33, 0, by_plan, {"x_scale": 1.3})
        bars = wb.add_chart({"type": "bar"})
        for h, color in (("Total budget", "#" + BUDGET_COLOR), ("Total actual", "#" + ACTUAL_COLOR)):
            c = col[h]
            bars.add_series({"name": h.split()[-1].capitalize(), "categories": ["Plans", first, 0, last, 0],
                             "values": ["Plans", first, c, last, c], "fill": {"color": color}})
        bars.set_title({"name": "Budget vs actual by plan"})
        overview.insert_chart(33, 7, bars, {"y_scale": max(1.0, 0.2 + 0.12 * n)})
