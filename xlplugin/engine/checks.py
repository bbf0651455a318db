"""The checks a YAML schema in validators/ can name, registered with pandera.

Each is a pandera extension (`register_check_method`) so a schema file can say
`xp_not_negative: {min_value: 0}` and teams can reuse them in their own schemas.
Every check treats blanks as passing: a missing value is the `nullable` rule's job.

Column checks are element-wise or Series-wise; frame checks take the whole typed
frame and name their columns in statistics (they pass when a column is absent).
check.py maps each check name to a rule code and builds the message from the
check's statistics (see CHECK_RULES), never from pandera's text.

Importing this module registers the checks (pandera is imported here, so only
check.py imports it, lazily).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandera import extensions

# check name -> rule code (rules.py); the check's target column for frame checks.
CHECK_RULES: dict[str, str] = {
    "xp_not_negative": "XP203",
    "xp_ordered": "XP204",
    "xp_within_period": "XP205",
    "xp_unique": "XP206",
    "xp_no_duplicate_rows": "XP207",
    "xp_one_of": "XP208",
    "xp_not_above": "XP209",
    "xp_consistent": "XP210",
}


def _registered(name: str) -> bool:
    from pandera.api.checks import Check
    return name in getattr(Check, "REGISTERED_CUSTOM_CHECKS", {})


def _register(fn, **kwargs):
    # Re-importing (tests, reloads) must not fail on "already registered".
    if _registered(fn.__name__):
        return fn
    return extensions.register_check_method(**kwargs)(fn)


def _is_text(series: pd.Series) -> bool:
    # object (what parse gives) or pandas' str dtype (what pandas 3 infers elsewhere)
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series))


def _norm(series: pd.Series) -> pd.Series:
    """Text compared the way people mean it: case and surrounding spaces ignored."""
    if not _is_text(series):
        return series
    return pd.Series([v.strip().casefold() if type(v) is str else v for v in series.tolist()],
                     index=series.index, dtype=object)


def _all_pass(df: pd.DataFrame) -> pd.Series:
    return pd.Series(True, index=df.index)


# --- column checks -----------------------------------------------------------------

def xp_not_negative(series: pd.Series, *, min_value: float = 0) -> pd.Series:
    """Amounts and counts are never below `min_value` (0)."""
    return ~(series < min_value)


def xp_one_of(series: pd.Series, *, allowed: list[str]) -> pd.Series:
    """Text is one of `allowed` (case and surrounding spaces ignored)."""
    keys = {str(a).strip().casefold() for a in allowed}
    return _norm(series).isin(keys) | series.isna()


def xp_within_period(series: pd.Series, *, min_value: str | None = None,
                     max_value: str | None = None) -> pd.Series:
    """Dates fall inside the plan period (ISO dates, either end optional)."""
    ok = pd.Series(True, index=series.index)
    if min_value:
        ok &= ~(series < pd.Timestamp(min_value))
    if max_value:
        # the whole last day counts
        ok &= ~(series >= pd.Timestamp(max_value) + pd.Timedelta(days=1))
    return ok


def xp_unique(series: pd.Series) -> pd.Series:
    """No value repeats; the first occurrence passes, later ones fail."""
    return ~(_norm(series).duplicated(keep="first") & series.notna())


# --- frame checks --------------------------------------------------------------------

def xp_ordered(df: pd.DataFrame, *, first: str, then: str) -> pd.Series:
    """`then` is not before `first` (end date on or after start date)."""
    if first not in df or then not in df:
        return _all_pass(df)
    return ~(df[then] < df[first])


def xp_not_above(df: pd.DataFrame, *, column: str, limit: str) -> pd.Series:
    """`column` is not above `limit` in the same row (conversions <= leads).
    A negative `limit` is the negative-amount rule's finding, not this one's."""
    if column not in df or limit not in df:
        return _all_pass(df)
    return ~((df[column] > df[limit]) & (df[limit] >= 0))


def xp_no_duplicate_rows(df: pd.DataFrame, *, columns: list[str]) -> pd.Series:
    """No row repeats an earlier one on all of `columns` present (rows whose first
    column is blank are not compared)."""
    cols = [c for c in columns if c in df]
    if len(cols) < 2:  # one column alone (say, the activity name) may repeat legitimately
        return _all_pass(df)
    ok = pd.Series(True, index=df.index)
    sub = df[cols]
    # Blanks compare equal (two copies with no owner are still copies), but a row
    # needs its first column (the activity) to be compared at all.
    complete = sub[cols[0]].notna()
    exact = [c for c in cols if not _is_text(sub[c])]
    # Only rows that repeat on the numbers and dates can repeat at all: normalise the
    # text of those few instead of every row's.
    cand = (sub[exact].duplicated(keep=False) if exact else pd.Series(True, index=df.index)) & complete
    if not cand.any():
        return ok
    few = sub[cand].copy()
    for c in cols:
        if _is_text(few[c]):
            few[c] = _norm(few[c])
    ok[few.index[few.duplicated(keep="first").to_numpy()]] = False
    return ok


_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def consistent_expected(df: pd.DataFrame, formula: str) -> pd.Series | None:
    """Evaluate a formula over the frame's columns (None when a column is missing).
    Division by zero gives NaN, which the check treats as 'cannot tell'."""
    names = set(_NAME.findall(formula))
    if not names <= set(df.columns):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        out = df.eval(formula, engine="python")
    return out.astype(float).replace([np.inf, -np.inf], np.nan)


def xp_consistent(df: pd.DataFrame, *, column: str, formulas: list[str],
                  tolerance: float = 0.01) -> pd.Series:
    """A stored figure (ROI, variance) agrees with one of `formulas` over its inputs,
    as a fraction or a percentage, within `tolerance` (relative, and absolute near 0).
    Rows where the stored value or the inputs are blank pass."""
    if column not in df:
        return _all_pass(df)
    stored = df[column]
    ok = stored.isna()
    known = pd.Series(False, index=df.index)
    for formula in formulas:
        exp = consistent_expected(df, formula)
        if exp is None:
            continue
        known |= exp.notna()
        for scale in (1.0, 100.0):
            e = exp * scale
            ok |= (stored - e).abs() <= tolerance * np.maximum(e.abs(), 1.0)
    return ok | ~known


_register(xp_not_negative, statistics=["min_value"], supported_types=pd.Series)
_register(xp_one_of, statistics=["allowed"], supported_types=pd.Series)
_register(xp_within_period, statistics=["min_value", "max_value"], supported_types=pd.Series)
_register(xp_unique, statistics=[], supported_types=pd.Series)
_register(xp_ordered, statistics=["first", "then"], supported_types=pd.DataFrame)
_register(xp_not_above, statistics=["column", "limit"], supported_types=pd.DataFrame)
_register(xp_no_duplicate_rows, statistics=["columns"], supported_types=pd.DataFrame)
_register(xp_consistent, statistics=["column", "formulas", "tolerance"], supported_types=pd.DataFrame)
