"""Metric definitions (DOMAIN.md's table): inputs, the guarded Excel formula, Python values.

A metric is an expression over plan fields.  The same definition yields
  * an Excel formula for one row, in either layout: structured references
    (`Plan[[#This Row],[Budget]]`, the form Excel stores in the file; the `[@Budget]`
    shorthand is UI-only and LibreOffice rejects it in .xlsx) or A1 references (`J5`);
  * the value Excel will compute, in Python, so it can be written as the cached value.

Every input is guarded with ISNUMBER (catches blank AND text cells, which `=""` alone
would not: text in a number cell makes `J5-K5` a #VALUE!): a row without its inputs
yields "" (blank).  A zero denominator, or a figure with nothing to measure yet (no
revenue for ROI, nothing spent for Variance %: a misleading -100% otherwise), yields
"n/a".  Both are text, which SUM/SUMIFS ignore.

Values follow Excel's view of the cells, not parse's: a number typed as text ("1,200")
is not a number to SUMIFS or ISNUMBER, so `effective_numbers` keeps only real numeric
cells from `ParsedPlan.raw`.  Pure: no I/O; pandas/numpy imported inside functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from xlplugin.model import ParsedPlan

PERCENT = "0.0%"
CURRENCY = "#,##0"          # amounts when the plan's own format is unknown (no cents: plans rarely have them)
RATIO = "0.00"
COUNT = "#,##0"
NA = "n/a"                  # shown where there is nothing to measure yet

Kind = Literal["percent", "currency", "ratio"]
FORMATS: dict[str, str] = {"percent": PERCENT, "currency": CURRENCY, "ratio": RATIO}

# Placeholder for a column total (Share of budget's denominator).
TOTAL = "total_budget"


@dataclass(frozen=True)
class Metric:
    name: str                        # header text of the added column
    inputs: tuple[str, ...]          # canonical fields that must exist in the plan
    expr: str                        # Excel expression with {field} placeholders
    denominators: tuple[str, ...]    # placeholders that must be <> 0
    kind: Kind
    compute: Callable[..., np.ndarray]   # numpy version of expr over float arrays
    width: float = 12.0
    # placeholders that must be non-zero for the figure to mean anything yet ("n/a" otherwise)
    measured: tuple[str, ...] = ()

    @property
    def number_format(self) -> str:
        return FORMATS[self.kind]

    def format_for(self, money: str | None) -> str:
        """The number format, with the plan's own currency format for amounts."""
        return (money or CURRENCY) if self.kind == "currency" else FORMATS[self.kind]


def _m(name: str, inputs: tuple[str, ...], expr: str, denominators: tuple[str, ...], kind: Kind,
       compute: Callable[..., np.ndarray], measured: tuple[str, ...] = ()) -> Metric:
    return Metric(name, inputs, expr, denominators, kind, compute, max(11.0, len(name) + 3.0),
                  measured)


# Order = left-to-right order of the added columns.  `compute` gets keyword arrays named
# like the placeholders, and must do the same float operations in the same order as expr.
METRICS: tuple[Metric, ...] = (
    _m("Variance", ("budget", "actual"), "{actual}-{budget}", (), "currency",
       lambda actual, budget: actual - budget),
    _m("Variance %", ("budget", "actual"), "({actual}-{budget})/{budget}", ("budget",), "percent",
       lambda actual, budget: (actual - budget) / budget, measured=("actual",)),
    _m("Spent %", ("budget", "actual"), "{actual}/{budget}", ("budget",), "percent",
       lambda actual, budget: actual / budget),
    _m("Share of budget", ("budget",), "{budget}/{total_budget}", (TOTAL,), "percent",
       lambda budget, total_budget: budget / total_budget),
    _m("ROI", ("revenue", "actual"), "({revenue}-{actual})/{actual}", ("actual",), "percent",
       lambda revenue, actual: (revenue - actual) / actual, measured=("revenue",)),
    _m("ROAS", ("revenue", "actual"), "{revenue}/{actual}", ("actual",), "ratio",
       lambda revenue, actual: revenue / actual, measured=("revenue",)),
    _m("CPL", ("actual", "leads"), "{actual}/{leads}", ("leads",), "currency",
       lambda actual, leads: actual / leads),
    _m("CPA", ("actual", "conversions"), "{actual}/{conversions}", ("conversions",), "currency",
       lambda actual, conversions: actual / conversions),
    _m("Conversion rate", ("conversions", "leads"), "{conversions}/{leads}", ("leads",), "percent",
       lambda conversions, leads: conversions / leads),
    _m("CTR", ("clicks", "impressions"), "{clicks}/{impressions}", ("impressions",), "percent",
       lambda clicks, impressions: clicks / impressions),
    _m("CPC", ("actual", "clicks"), "{actual}/{clicks}", ("clicks",), "currency",
       lambda actual, clicks: actual / clicks),
    _m("CPM", ("actual", "impressions"), "{actual}/{impressions}*1000", ("impressions",), "currency",
       lambda actual, impressions: actual / impressions * 1000),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)


def available(fields: Mapping[str, object] | set[str]) -> list[Metric]:
    """The metrics whose inputs all exist among `fields`."""
    return [m for m in METRICS if all(f in fields for f in m.inputs)]


def placeholders(metric: Metric) -> tuple[str, ...]:
    """Placeholders used by the expression, inputs first, then TOTAL when used."""
    extra = (TOTAL,) if "{" + TOTAL + "}" in metric.expr else ()
    return metric.inputs + extra


def row_formula(metric: Metric, refs: Mapping[str, str]) -> str:
    """The guarded formula (no '=') given one reference per placeholder.

    refs: field -> cell reference for this row ('J5' or 'Plan[[#This Row],[Budget]]'),
    plus TOTAL -> the column total expression when the metric uses it.
    """
    expr = metric.expr.format(**{k: refs[k] for k in placeholders(metric)})
    nonzero = [refs[d] for d in (*metric.denominators, *metric.measured)]
    if nonzero:
        expr = f'IF({_all([f"{r}<>0" for r in dict.fromkeys(nonzero)])},{expr},"{NA}")'
    return f'IF({_all([f"ISNUMBER({refs[f]})" for f in metric.inputs])},{expr},"")'


def _all(conds: list[str]) -> str:
    return conds[0] if len(conds) == 1 else "AND(" + ",".join(conds) + ")"


def ratio_formula(num: str, den: str, minus: str | None = None, measured: str | None = None) -> str:
    """(num - minus) / den between two cells, "n/a" when den (or `measured`) is zero."""
    top = f"({num}-{minus})" if minus else num
    guard = _all([f"{den}<>0", *([f"{measured}<>0"] if measured else [])])
    return f'IF({guard},{top}/{den},"{NA}")'


def ratio_value(num: float, den: float, minus: float | None = None, measured: float | None = None
                ) -> float | str:
    """The value ratio_formula computes, in Python."""
    if den == 0 or measured == 0:
        return NA
    return ((num - minus) if minus is not None else num) / den


# ---- Excel's view of the cell values -------------------------------------------------

def is_excel_number(v: object) -> bool:
    """A cell ISNUMBER/SUM would count: a real int/float (not bool, not text, not NaN)."""
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, (int, float)):
        return v == v  # NaN is what pandas uses for blank
    try:  # numpy scalars
        import numpy as np
        return isinstance(v, np.number) and not np.isnan(v)
    except (ImportError, TypeError):
        return False


def _numeric_cells(col: pd.Series) -> np.ndarray:
    """True where a raw cell holds a real number (int/float, not bool, not NaN)."""
    import numpy as np

    number_types = {int, float, np.float64, np.float32, np.int64, np.int32}
    # a list comprehension over the values: Series.map costs ~5x more per cell
    return np.array([type(v) in number_types and v == v for v in col.tolist()], dtype=bool)


def effective_numbers(parsed: ParsedPlan, fld: str) -> pd.Series:
    """Field values as Excel sees them: float where the cell holds a number, else NaN.

    parse may read "1,200" typed as text as 1200; Excel's SUMIFS and ISNUMBER do not,
    so the cached values must not either.
    """
    import numpy as np
    import pandas as pd

    frame = parsed.frame
    raw = parsed.raw
    if raw is None or fld not in getattr(raw, "columns", ()):
        return pd.to_numeric(frame[fld], errors="coerce").astype("float64")
    col = raw[fld].reindex(frame.index)
    ok = _numeric_cells(col)
    # Where the cell holds a real number use that number (parse may have rejected it, e.g. a
    # negative budget, yet Excel still sums it).
    vals = np.full(len(col), np.nan)
    if ok.any():
        vals[ok] = col.to_numpy()[ok].astype("float64")
    return pd.Series(vals, index=frame.index, dtype="float64")


def effective_dates(parsed: ParsedPlan, fld: str) -> pd.Series:
    """Date field as Excel's date criteria see it: a date where the cell is a date (or a
    number parse turned into one); NaT where it is text (a date typed as text is not
    matched by ">="&DATE(...)) or blank."""
    import numpy as np
    import pandas as pd

    frame = parsed.frame
    values = pd.to_datetime(frame[fld], errors="coerce")
    raw = parsed.raw
    if raw is None or fld not in getattr(raw, "columns", ()):
        return values
    col = raw[fld].reindex(frame.index)
    ok = np.array([isinstance(v, (dt.date, dt.datetime)) or is_excel_number(v) for v in col.tolist()], dtype=bool)
    return values.where(ok)


def row_values(metric: Metric, numbers: Mapping[str, pd.Series], total_budget: float | None = None
               ) -> list[object]:
    """Cached value per row: a float, "" where an input is not a number, NA where the
    figure has a zero denominator or nothing to measure yet (as row_formula)."""
    import numpy as np

    arrays = {f: numbers[f].to_numpy(dtype="float64") for f in metric.inputs}
    n = len(next(iter(arrays.values())))
    ok = np.ones(n, dtype=bool)
    for a in arrays.values():
        ok &= ~np.isnan(a)
    kwargs: dict[str, object] = dict(arrays)
    measurable = np.ones(n, dtype=bool)
    for d in (*metric.denominators, *metric.measured):
        if d == TOTAL:
            total = 0.0 if total_budget is None else total_budget
            measurable &= total != 0
            kwargs[TOTAL] = total
        else:
            measurable &= arrays[d] != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        result = metric.compute(**kwargs)
    result = np.broadcast_to(result, (n,))
    return [(v if m else NA) if k else "" for v, k, m in zip(result.astype("float64").tolist(), ok.tolist(),
                                                             measurable.tolist(), strict=True)]


def excel_sum(values: pd.Series | np.ndarray) -> float:
    """SUM over a column as Excel does it: numbers only, blanks/text ignored."""
    import math

    import numpy as np

    a = np.asarray(values, dtype="float64")
    return float(math.fsum(a[~np.isnan(a)]))


def excel_sum_values(values: Sequence[object]) -> float:
    """SUM over cells already computed here: numbers count, "" and text do not."""
    import math
    return float(math.fsum(v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                           and v == v))
