"""The Summary's header: which plan, what kind of sheet it was read as, when, and what
the check found (or that no check ran)."""

from __future__ import annotations

from xlplugin.changes import Hyperlink, SetCell, Style
from xlplugin.model import quote_sheet
from xlplugin.render.summary.context import SummaryContext
from xlplugin.render.summary.layout import BOLD

VALIDATION_SHEET = "Validation"
KIND_WORDS = {"activity_plan": "activity plan", "budget": "budget", "performance_log": "performance log",
              "content_calendar": "content calendar", "media_plan": "media plan"}


def header_cells(ctx: SummaryContext, sheet: str) -> tuple[list[SetCell], list[Hyperlink], int]:
    """The header's cells and links, and the first free row below it."""
    plan = ctx.parsed.plan
    kind = KIND_WORDS.get(plan.kind, plan.kind.replace("_", " "))
    if "actual" in plan.fields and plan.fields["actual"].header.strip().casefold() != "actual":
        kind += f' ("{plan.fields["actual"].header}" counted as actual spend)'
    lines: list[tuple[str, object, Style | None]] = [
        ("Plan", f"{ctx.source_name}, sheet {plan.sheet}", None),
        ("Produced", ctx.produced_at, Style(number_format="yyyy-mm-dd hh:mm", halign="left")),  # B3
        ("Read as", kind, None),
    ]
    links: list[Hyperlink] = []
    findings = ctx.findings
    if findings is None:
        lines.append(("Check", "not checked: run `xlplugin run` or `xlplugin check` to validate it",
                      Style(italic=True)))
    else:
        n_err = sum(f.severity == "error" for f in findings)
        n_warn = sum(f.severity == "warning" for f in findings)
        lines += [("Errors", n_err, Style(font_color="C00000", bold=True) if n_err else None),
                  ("Warnings", n_warn, None)]
    cells = [SetCell(sheet, 1, 1, "Marketing plan summary", style=Style(bold=True, font_size=14))]
    for i, (label, value, style) in enumerate(lines, start=2):
        cells += [SetCell(sheet, i, 1, label, style=BOLD), SetCell(sheet, i, 2, value, style=style)]
    if findings:
        r = 2 + [label for label, _, _ in lines].index("Errors")
        cells.append(SetCell(sheet, r, 3, "See the Validation sheet",
                             style=Style(font_color="0563C1")))
        links.append(Hyperlink(r, 3, f"{quote_sheet(VALIDATION_SHEET)}!A1", "Open the findings"))
    return cells, links, 2 + len(lines) + 1
