"""`xlplugin check --explain`: why this table, this kind, these column meanings.

Shows the sheet and header row chosen, each column's field and the synonym it matched (and
how: the whole text, or words inside it), the kind with its evidence, months across the
columns, and the runner-up with why it lost.  The same facts as a dict for --format json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlplugin import model
from xlplugin.config import Config
from xlplugin.engine.headers import vocabulary
from xlplugin.engine.kinds import kind_name, kind_scores
from xlplugin.engine.locate import Candidate, Choice, _finish, find_candidates


def _col(c: model.Column, vocab) -> dict[str, Any]:
    m = vocab.match(c.header) if c.field and c.header else None
    how = m.how if m is not None and m.synonym == c.matched else ("position" if c.field else "")
    return {"column": c.letter, "header": c.header, "field": c.field, "synonym": c.matched or None,
            "how": how or None}


def _why_lost(chosen: Candidate, other: Candidate) -> str:
    if not other.plausible(insisted=other.named):
        return other.lacks()
    if chosen.named and not other.named:
        return f"{chosen.sheet!r} is named like a plan, and its table is plausible"
    if len(other.fields) < len(chosen.fields):
        return f"fewer known columns ({len(other.fields)} against {len(chosen.fields)})"
    if other.rows < chosen.rows:
        return f"fewer data rows ({other.rows} against {chosen.rows})"
    return f"a lower score ({other.score:.1f} against {chosen.score:.1f})"


def explain(wb, sheet: str | None = None, config: Config | None = None) -> dict[str, Any]:
    """The choice locate makes on `wb`, as plain data (see the module docstring)."""
    config = config or Config()
    vocab = vocabulary(str(config.columns_file) if config.columns_file else None)
    choice: Choice = find_candidates(wb, sheet, config)
    out: dict[str, Any] = {"file": wb.file, "found": choice.chosen is not None}
    c = choice.chosen
    if c is None:
        best = choice.ranked[0] if choice.ranked else None
        out["closest"] = None if best is None else {
            "sheet": best.sheet, "header_row": best.header_row, "score": round(best.score, 2),
            "columns": [_col(x, vocab) for x in best.columns if x.field], "lacks": best.lacks()}
        return out
    plan = _finish(wb, c, config)
    scores = kind_scores(c.fields, len(c.periods), c.weak)
    out.update({
        "sheet": c.sheet, "why": choice.reason, "header_row": c.header_row,
        "range": f"{model.col_letter(c.first_col)}{c.header_row}:{model.col_letter(c.last_col)}{plan.last_row}",
        "table": c.table.name if c.table is not None else None,
        "data_rows": len(plan.data_rows), "score": round(c.score, 2),
        "kind": plan.kind, "kind_scores": {k: round(v, 2) for k, v in sorted(scores.items(), key=lambda kv: -kv[1])},
        "columns": [_col(x, vocab) for x in plan.columns],
        "layout": plan.layout,
        "periods": [{"column": model.col_letter(col), "period": lab} for col, lab in sorted(plan.periods.items())],
    })
    if plan.layout == "weekday_grid":
        from xlplugin.engine.layouts import grid_entries
        out["entries"] = len(grid_entries(wb.grid(plan.sheet), plan)[0])
    other = choice.runner_up()
    out["runner_up"] = None if other is None else {
        "sheet": other.sheet, "header_row": other.header_row, "score": round(other.score, 2),
        "table": other.table.name if other.table is not None else None,
        "kind": other.kind, "known_columns": [x.header for x in other.fields.values()],
        "why_lost": _why_lost(c, other)}
    return out


def format_text(e: dict[str, Any]) -> str:
    """The explanation as the terminal shows it."""
    lines = [f"{e['file']}"]
    if not e["found"]:
        cl = e.get("closest")
        if cl is None:
            lines.append("  no table: no sheet has any known column header")
        else:
            cols = ", ".join(f"{x['header']!r} as {x['field']}" for x in cl["columns"])
            lines.append(f"  no table: closest is {cl['sheet']!r} row {cl['header_row']} ({cols}); "
                         f"{cl['lacks']}")
        return "\n".join(lines)
    table = f", Excel Table {e['table']}" if e["table"] else ""
    lines.append(f"  sheet:      {e['sheet']!r} ({e['why']})")
    lines.append(f"  header row: {e['header_row']} ({e['range']}{table}; {e['data_rows']} data rows; "
                 f"score {e['score']})")
    evidence = ", ".join(f"{kind_name(k)} {v:g}" for k, v in e["kind_scores"].items())
    if e.get("layout") == "weekday_grid":
        evidence = "days of the week across, entries in the cells"
    lines.append(f"  kind:       {kind_name(e['kind'])} (evidence: {evidence})")
    if any(x["column"] not in {p["column"] for p in e["periods"]} for x in e["columns"]):
        lines.append("  columns:")
    period_cols = {p["column"] for p in e["periods"]}
    for x in e["columns"]:
        if x["column"] in period_cols:
            continue
        head = (x["header"] or "(blank)").replace("\n", "⏎")
        if x["field"]:
            how = {"exact": "", "words": ", words in the header", "chars": ", characters in the header",
                   "position": ""}.get(x["how"] or "", "")
            lines.append(f"    {x['column']:>3}  {head!r} -> {x['field']} (synonym {x['synonym']!r}{how})")
        else:
            lines.append(f"    {x['column']:>3}  {head!r} -> not used")
    if e.get("layout") == "weekday_grid":
        ps = e["periods"]
        lines.append(f"  layout:     weekday grid, {ps[0]['period']} .. {ps[-1]['period']} across "
                     f"({ps[0]['column']}..{ps[-1]['column']}); {e['entries']} entries, one per filled day cell")
    elif e["periods"]:
        ps = e["periods"]
        lines.append(f"  periods:    {len(ps)} columns {ps[0]['column']}..{ps[-1]['column']} "
                     f"({ps[0]['period']} .. {ps[-1]['period']}), read as one row per item and period")
    r = e["runner_up"]
    if r is None:
        lines.append("  runner-up:  none")
    else:
        table = f" (Table {r['table']})" if r["table"] else ""
        lines.append(f"  runner-up:  {r['sheet']!r} row {r['header_row']}{table}, {kind_name(r['kind'])}, "
                     f"score {r['score']}; lost: {r['why_lost']}")
    return "\n".join(lines)


def explain_file(path: Path, sheet: str | None = None, config_path: Path | None = None) -> dict[str, Any]:
    """Open `path` and explain it.  Raises XlpluginError for an unreadable file."""
    from xlplugin.config import load_config
    from xlplugin.file.read import open_workbook

    config = load_config(config_path, near=path)
    with open_workbook(path) as wb:
        out = explain(wb, sheet, config)
    out["file"] = str(path)
    return out
