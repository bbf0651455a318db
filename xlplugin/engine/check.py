"""The rules driver: parse findings + the pandera schema + plan-level rules -> Findings.

The schema (validators/marketing_plan.yaml, plus a team's --schema file) runs once,
lazily, over the typed frame; each failure case becomes a Finding at its cell, with
a message built from the check's name and statistics (pandera's own text is for
developers).  Allowed lists and the plan period are added to the schema at run time
from the workbook and xlplugin.toml.  Budget cap, stage floor and KPI/stage
mismatches are plan-level rules computed here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplugin.config import Config
from xlplugin.engine.parse import field_label
from xlplugin.engine.rules import BY_CODE
from xlplugin.errors import XlpluginError
from xlplugin.model import (
    DATE_FIELDS,
    NUMBER_FIELDS,
    CellValue,
    Finding,
    Label,
    ParsedPlan,
    PlanTable,
    col_letter,
    map_distinct,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SHIPPED_SCHEMA = "marketing_plan.yaml"
# The shipped schema for each sheet kind (model.SHEET_KINDS; locate decides the kind).
KIND_SCHEMAS = {"activity_plan": SHIPPED_SCHEMA, "budget": "budget.yaml",
                "performance_log": "performance_log.yaml", "content_calendar": "content_calendar.yaml",
                "media_plan": "media_plan.yaml"}
KPI_STAGES = "kpi_stages.yaml"
# Columns that can name a plan row when there is no Activity column (kinds.LABEL_FIELDS).
_OTHER_LABELS = frozenset({"category", "channel", "placement", "description"})
# Canonical names shown when a required column is missing (locate's synonyms, when it has them, win).
_FALLBACK_NAMES = {
    "activity": ["Activity", "Campaign", "Tactic", "Initiative"],
    "start": ["Start Date", "Start", "Begin"],
    "end": ["End Date", "End", "Finish"],
    "budget": ["Budget", "Planned Spend", "Plan"],
}


# --- schema loading ---------------------------------------------------------------------

def _validators_dir() -> Path:
    """The shipped schemas: xlplugin/validators in a wheel, ../validators in a source tree.

    Found by path, not imported: `validators` must never be an importable top-level name
    (it would shadow the PyPI package of that name), so the folder has no __init__.py."""
    here = Path(__file__).resolve().parents[1]   # the xlplugin package
    for candidate in (here / "validators", here.parent / "validators"):
        if (candidate / "marketing_plan.yaml").is_file():
            return candidate
    raise XlpluginError("the shipped schemas are missing (reinstall xlplugin)", file=str(here / "validators"))


@functools.lru_cache(maxsize=16)
def _load_yaml_schema(path: str, mtime: float):
    import pandera.io.pandas_io as pio

    import xlplugin.engine.checks  # noqa: F401  (registers the xp_ checks before the YAML names them)

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise XlpluginError(f"cannot read schema ({e.strerror or e})", file=path) from None
    _lint_schema(text, path)
    try:
        return pio.from_yaml(text)
    except AttributeError as e:  # pandera's way of saying "no such check"
        raise XlpluginError(f"schema names an unknown check ({e}); checks available: "
                            + ", ".join(available_checks()), file=path) from None
    except Exception as e:  # yaml or schema structure
        raise XlpluginError(f"invalid pandera schema ({e.__class__.__name__}: {e})", file=path) from None


def _lint_schema(text: str, path: str) -> None:
    """pandera ignores a key it does not know under a column, so a misspelt check would
    silently check nothing: name it instead."""
    import yaml
    from pandera.api.checks import Check
    from pandera.io._flat_checks import COMPONENT_RESERVED_KEYS

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise XlpluginError(f"invalid YAML ({e})", file=path) from None
    if not isinstance(data, dict):
        raise XlpluginError("a schema file must be a YAML mapping (schema_type, columns, checks)", file=path)

    def known(name: object) -> bool:
        return isinstance(name, str) and callable(getattr(Check, name, None))

    bad: list[str] = []
    for col, spec in (data.get("columns") or {}).items():
        if not isinstance(spec, dict):
            continue
        for key in spec:
            if key not in COMPONENT_RESERVED_KEYS and not known(key):
                bad.append(f"{key} (column {col})")
        checks = spec.get("checks")
        names = list(checks) if isinstance(checks, dict) else [
            (c.get("options") or {}).get("check_name") for c in checks or [] if isinstance(c, dict)]
        bad += [f"{n} (column {col})" for n in names if not known(n)]
    frame_checks = data.get("checks") or []
    names = list(frame_checks) if isinstance(frame_checks, dict) else [
        (c.get("options") or {}).get("check_name") for c in frame_checks if isinstance(c, dict)]
    bad += [str(n) for n in names if not known(n)]
    if bad:
        raise XlpluginError("schema names an unknown check: " + ", ".join(bad)
                            + "; xlplugin checks: " + ", ".join(available_checks()), file=path)


def available_checks() -> list[str]:
    from pandera.api.checks import Check

    import xlplugin.engine.checks  # noqa: F401
    return sorted(getattr(Check, "REGISTERED_CUSTOM_CHECKS", {}))


def load_schema(schema_path: Path | str | None = None, kind: str = "activity_plan"):
    """The shipped schema for the sheet kind, merged with a team's schema file when given: the
    team's columns replace same-named shipped ones, its other columns and frame checks are added."""
    shipped = _validators_dir() / KIND_SCHEMAS.get(kind, SHIPPED_SCHEMA)
    schema = _load_yaml_schema(str(shipped), shipped.stat().st_mtime)
    if schema_path is None:
        return schema
    p = Path(schema_path)
    if not p.is_file():
        raise XlpluginError("schema file not found", file=str(p))
    extra = _load_yaml_schema(str(p.resolve()), p.stat().st_mtime)
    columns = {**schema.columns, **extra.columns}
    return schema.__class__(columns=columns, checks=list(schema.checks) + list(extra.checks),
                            strict=False, coerce=False)


def _runtime_schema(schema, plan: PlanTable, config: Config, frame_cols: set[str]):
    """Add the allowed lists and the plan period, which live in the workbook/config."""
    from pandera.api.checks import Check

    import xlplugin.engine.checks  # noqa: F401

    updates: dict[str, list] = {}
    for field in sorted(frame_cols):
        allowed = config.allowed.get(field) or plan.list_values.get(field)
        if allowed and field not in NUMBER_FIELDS and field not in DATE_FIELDS:
            updates.setdefault(field, []).append(Check.xp_one_of(allowed=list(allowed), ignore_na=False))
    if config.period_start or config.period_end:
        lo = config.period_start.isoformat() if config.period_start else None
        hi = config.period_end.isoformat() if config.period_end else None
        for field in ("start", "end"):
            if field in frame_cols:
                updates.setdefault(field, []).append(Check.xp_within_period(min_value=lo, max_value=hi, ignore_na=False))
    # The row is named by another column ("Activity Type", "Expense Category", "Channel"):
    # a missing Activity column is then no error.
    label_elsewhere = "activity" not in frame_cols and bool(frame_cols & _OTHER_LABELS)
    if label_elsewhere and "activity" in schema.columns and schema.columns["activity"].required:
        import copy
        columns = dict(schema.columns)
        columns["activity"] = copy.copy(columns["activity"])  # the cached schema stays as it is
        columns["activity"].required = False
        schema = schema.__class__(columns=columns, checks=list(schema.checks), strict=False, coerce=False)
    if not updates:
        return schema
    from pandera.pandas import Column
    columns = dict(schema.columns)
    for field, checks in updates.items():
        if field in columns:
            columns[field] = columns[field].set_checks(list(columns[field].checks) + checks)
        else:
            columns[field] = Column(checks=checks, nullable=True, required=False, name=field)
    return schema.__class__(columns=columns, checks=list(schema.checks), strict=False, coerce=False)


# --- findings from pandera --------------------------------------------------------------

class _Builder:
    """Makes Findings for one parsed plan (addresses, headers, raw values), a rule's rows at a
    time: a plan where every row breaks a rule makes 100k findings, so values are picked from
    per-column lists (DataFrame.at costs ~10 µs a cell) and each message is one f-string."""

    def __init__(self, parsed: ParsedPlan):
        self.parsed = parsed
        self.plan = parsed.plan
        self.cols = parsed.plan.fields
        self.raw = parsed.raw
        self._pos: dict[int, int] | None = None
        self._lists: dict[tuple[str, str], list] = {}

    def header(self, field: str) -> str:
        """The field as messages name it (the column's own header is in Finding.column)."""
        return field_label(field)

    def _column(self, which: str, field: str) -> list:
        """A whole column of the raw or typed frame as a list, in the frame's row order."""
        col = self._lists.get((which, field))
        if col is None:
            df = self.raw if which == "raw" else self.parsed.frame
            if df is None or field not in df.columns:
                raise KeyError(field)
            col = self._lists[(which, field)] = df[field].reindex(self.parsed.frame.index).tolist()
        return col

    def _positions(self, rows: list[int]) -> list[int]:
        if self._pos is None:
            self._pos = {r: i for i, r in enumerate(self.parsed.frame.index.tolist())}
        pos = self._pos
        return [pos[r] for r in rows]

    def fvs(self, rows: list[int], field: str) -> list:
        """The typed values (parsed.frame) at these rows."""
        col = self._column("frame", field)
        return [col[i] for i in self._positions(rows)]

    def shown(self, rows: list[int], field: str) -> list[str]:
        """_fmt of the typed values at these rows.  A date column is formatted from its
        int64 nanoseconds, each distinct date once (a Timestamp per cell costs ~5 µs)."""
        import numpy as np
        import pandas as pd

        series = self.parsed.frame[field]
        if series.dtype != "datetime64[ns]":
            return _fmts(self.fvs(rows, field))
        nanos = series.to_numpy().view("int64")[np.array(self._positions(rows), dtype="int64")].tolist()
        nat = np.iinfo("int64").min
        memo: dict[int, str] = {}
        out = []
        for n in nanos:
            text = memo.get(n)
            if text is None:
                text = memo[n] = _fmt(pd.NaT if n == nat else pd.Timestamp(n))
            out.append(text)
        return out

    def fv(self, row: int, field: str) -> Any:
        return self.fvs([row], field)[0]

    def raw_values(self, rows: list[int], field: str) -> list[CellValue]:
        """The cells as typed at these rows (blank: None)."""
        try:
            col = self._column("raw", field)
        except KeyError:
            return [None] * len(rows)
        out = [col[i] for i in self._positions(rows)]
        return [None if isinstance(v, float) and v != v else v for v in out]

    def many(self, rule: str, rows: list[int], field: str, messages: list[str], hints: list[str] | str,
             severity: str | None = None, values: list | None = None) -> list[Finding]:
        """One finding per row at the field's cell (the row, when the plan lacks the field)."""
        c = self.cols.get(field)
        col = c.col if c else None
        letter = col_letter(col) if col else ""
        header = c.header if c else None
        sev = severity or BY_CODE[rule].severity
        scope = "cell" if col else "row"
        sheet = self.plan.sheet
        vals = self.raw_values(rows, field) if values is None else values
        hint_list = [hints] * len(rows) if isinstance(hints, str) else hints
        return [Finding(rule=rule, severity=sev, sheet=sheet, message=m, hint=h,
                        cell=f"{letter}{r}" if letter else None, row=r, col=col, column=header,
                        value=v, scope=scope)
                for r, m, h, v in zip(rows, messages, hint_list, vals, strict=True)]

    def at(self, rule: str, row: int, field: str, message: str, hint: str,
           severity: str | None = None, value: Any = ...) -> Finding:
        return self.many(rule, [row], field, [message], hint, severity,
                         None if value is ... else [value])[0]

    def whole(self, rule: str, message: str, hint: str, field: str | None = None,
              value: CellValue = None) -> Finding:
        c = self.cols.get(field) if field else None
        return Finding(rule=rule, severity=BY_CODE[rule].severity, sheet=self.plan.sheet,
                       message=message, hint=hint, col=c.col if c else None,
                       column=c.header if c else None, value=value,
                       scope="column" if c else "sheet")


def _fmt(v: Any) -> str:
    import pandas as pd

    if v is None or (isinstance(v, float) and v != v):
        return "blank"
    if isinstance(v, pd.Timestamp | dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.4g}" if abs(v) < 10 else f"{v:,.2f}"
    return f'"{v}"' if isinstance(v, str) else str(v)


def _fmts(values: list) -> list[str]:
    """_fmt of each value, each distinct value once (dates and amounts repeat down a plan)."""
    return map_distinct(_fmt, values)


@dataclass
class _Failure:
    """One failed schema rule: what _schema_findings needs of a pandera SchemaError."""

    reason: Any                   # pandera's SchemaErrorReason
    column: str | None
    check: Any                    # the Check, or pandera's text for a core check
    rows: list[int]
    name: str = ""                # a missing column's name (COLUMN_NOT_IN_DATAFRAME)


def _unique_rows(index: Any) -> list[int]:
    seen: dict[int, None] = {}
    for i in index:
        if i is not None and i == i:
            seen[int(i)] = None
    return list(seen)


def _failure_rows(err) -> list[int]:
    fc = err.failure_cases
    if fc is None or not hasattr(fc, "columns") or "index" not in fc.columns:
        return []
    return _unique_rows(fc["index"].tolist())


def _pandera_failures(schema, frame: pd.DataFrame) -> list[_Failure]:
    """pandera's own lazy validation: every construct a schema can use, but it formats a
    message and reshapes a table for every failing check (seconds at 100k failing rows)."""
    from pandera.errors import SchemaError, SchemaErrors

    try:
        schema.validate(frame, lazy=True)
        return []
    except SchemaErrors as e:
        errors = e.schema_errors
    except SchemaError as e:  # non-lazy paths (e.g. a user check raising)
        errors = [e]
    out = []
    for err in errors:
        col = getattr(err, "column_name", None)
        out.append(_Failure(getattr(err, "reason_code", None), col, getattr(err, "check", None),
                            _failure_rows(err),
                            str(getattr(err.schema, "name", None) or col or _column_from_text(str(err)))))
    return out


def _plain_check(check) -> bool:
    from pandera.api.checks import Check

    return (type(check) is Check and check.groupby is None and check.n_failure_cases is None
            and not check.raise_warning)


def _lean_failures(schema, frame: pd.DataFrame) -> list[_Failure] | None:
    """The same failures as pandera's lazy validation, in the same order, for the schemas
    xlplugin ships and most teams write (required, nullable, dtype and plain checks): each
    check runs through pandera (Check.__call__) and only its failing rows are kept.  None
    for anything else (coercion, unique, regex columns, groupby checks, a check that raises,
    a dtype mismatch ...): the caller then asks pandera itself."""
    import pandas as pd
    from pandera.engines.pandas_engine import Engine
    from pandera.errors import SchemaErrorReason

    if getattr(schema, "on_missing_columns", None) is not None or any(
            getattr(c, "on_missing", None) is not None for c in schema.columns.values()):
        return None   # pandera warns about those
    if (schema.strict or schema.ordered or schema.unique or schema.coerce or schema.index is not None
            or schema.parsers or schema.dtype is not None or schema.add_missing_columns
            or schema.drop_invalid_rows or not frame.columns.is_unique):
        return None
    columns = schema.columns
    for col in columns.values():
        if (col.regex or col.coerce or col.unique or col.parsers or col.default is not None
                or col.drop_invalid_rows or not all(map(_plain_check, col.checks))):
            return None
    if not all(map(_plain_check, schema.checks)):
        return None
    out = [_Failure(SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME, None, "column_in_dataframe", [],
                    str(schema.name or name))
           for name, col in columns.items() if col.required and name not in frame.columns]

    def failed(check, column: str | None, *args) -> bool:
        """Run one check; False when pandera must take over."""
        try:
            result = check(frame, *args)
        except Exception:
            return False     # pandera reports it as CHECK_ERROR: let it
        if isinstance(result.check_output, pd.DataFrame):
            return False     # element-wise over a frame: pandera reshapes those cases
        if not result.check_passed:
            fc = result.failure_cases
            rows = [] if fc is None else _unique_rows(fc.index.tolist())
            out.append(_Failure(SchemaErrorReason.DATAFRAME_CHECK, column, check, rows))
        return True

    for name, col in columns.items():
        if name not in frame.columns:
            continue
        series = frame[name]
        if not col.nullable and series.hasnans:
            out.append(_Failure(SchemaErrorReason.SERIES_CONTAINS_NULLS, name, "not_nullable",
                                series.index[series.isna().to_numpy()].tolist()))
        if col.dtype is not None and col.dtype.check(Engine.dtype(series.dtype), series) is not True:
            return None
        if not all(failed(check, name, name) for check in col.checks):
            return None
    if not all(failed(check, None) for check in schema.checks):
        return None
    return out


def _schema_findings(schema, parsed: ParsedPlan, b: _Builder) -> list[Finding]:
    from pandera.errors import SchemaErrorReason

    frame = parsed.frame
    failures = _lean_failures(schema, frame)
    if failures is None:
        failures = _pandera_failures(schema, frame)
    out: list[Finding] = []
    for err in failures:
        reason, col, check = err.reason, err.column, err.check
        if reason == SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
            out.append(_missing_column(b, err.name))
        elif reason == SchemaErrorReason.SERIES_CONTAINS_NULLS:
            label, n = b.header(col), len(err.rows)
            out += b.many("XP202", err.rows, col, [f"{label} is required (the cell is blank)"] * n,
                          _required_hint(col), values=[None] * n)
        elif check is not None and hasattr(check, "name"):
            out.extend(_check_findings(check, col, err.rows, frame, b))
        elif reason == SchemaErrorReason.WRONG_DATATYPE and col:
            out.append(b.whole("XP290", f"{b.header(col)} does not have the type the schema expects "
                                        f"({check})", "check the schema's dtype for this column", col))
        else:
            out.append(b.whole("XP290", f"schema check failed: {check or reason}",
                               "see the schema file", col))
    return out


def _column_from_text(text: str) -> str:
    m = re.search(r"column '([^']+)'", text)
    return m.group(1) if m else text


def _required_hint(field: str) -> str:
    return {
        "activity": "name the activity, or delete the row if it is not one",
        "start": "type the start date, e.g. 2027-03-01",
        "end": "type the end date, e.g. 2027-03-31",
        "budget": "type the planned budget (0 if it costs nothing)",
    }.get(field, f"fill in {field}")


def _close_match(value: str, allowed: list[str]) -> str | None:
    """The allowed value a mistyped one was probably meant to be."""
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6) or \
        difflib.get_close_matches(value.casefold(), [a.casefold() for a in allowed], n=1, cutoff=0.6)
    if close and close[0] not in allowed:
        close = [allowed[[a.casefold() for a in allowed].index(close[0])]]
    return close[0] if close else None


def _check_findings(check, col: str | None, rows: list[int], frame: pd.DataFrame,
                    b: _Builder) -> list[Finding]:
    """The findings of one failed check, a rule's rows at a time (see _Builder)."""
    name = check.name
    st = dict(check.statistics or {})
    if name == "xp_not_negative":
        low = float(st.get("min_value", 0) or 0)
        label, vs = b.header(col), b.fvs(rows, col)
        shown = _fmts(vs)
        if low == 0:
            return b.many("XP203", rows, col, [f"{label} must not be negative, found {v}" for v in shown],
                          [f"type {v}; record refunds or savings in their own row"
                           for v in _fmts([abs(v) for v in vs])])
        return b.many("XP203", rows, col, [f"{label} must be at least {_fmt(low)}, found {v}" for v in shown],
                      "the team schema sets this minimum")
    if name == "xp_one_of":
        allowed = [str(a) for a in st.get("allowed", [])]
        listed = "allowed: " + ", ".join(allowed)
        vs = b.fvs(rows, col)
        hints: dict[str, str] = {}   # one fuzzy match per distinct value
        for v in set(map(str, vs)):
            close = _close_match(v, allowed)
            hints[v] = (f'did you mean "{close}"? ' if close else "") + listed
        label = b.header(col)
        return b.many("XP208", rows, col, [f"{label} {v} is not an allowed value" for v in _fmts(vs)],
                      [hints[str(v)] for v in vs])
    if name == "xp_within_period":
        lo, hi = st.get("min_value"), st.get("max_value")
        period = f"{lo or '...'}..{hi or '...'}"
        label = b.header(col)
        return b.many("XP205", rows, col,
                      [f"{label} {v} is outside the plan period {period}" for v in b.shown(rows, col)],
                      "move the activity into the period, or split it; the period is "
                      "period_start/period_end in xlplugin.toml")
    if name == "xp_unique":
        first: dict[Any, int] = {}
        keys = [v.strip().casefold() if isinstance(v, str) else v for v in frame[col].tolist()]
        for r, k in zip(frame.index.tolist(), keys, strict=True):
            if k is not None and k == k:
                first.setdefault(k, r)
        label = b.header(col)
        row_keys = [keys[i] for i in b._positions(rows)]
        return b.many("XP206", rows, col,
                      [f"{label} {v} is already used in row {first.get(k, '?')}"
                       for v, k in zip(b.shown(rows, col), row_keys, strict=True)],
                      "give every activity its own ID")
    if name == "xp_ordered":
        a, t = st["first"], st["then"]
        la, lt = b.header(a), b.header(t)
        return b.many("XP204", rows, t,
                      [f"{lt} {x} is before {la} {y}"
                       for x, y in zip(b.shown(rows, t), b.shown(rows, a), strict=True)],
                      "swap the two dates if they were entered the wrong way round, or correct the year")
    if name == "xp_not_above":
        c, lim = st["column"], st["limit"]
        lc, ll = b.header(c), b.header(lim)
        return b.many("XP209", rows, c,
                      [f"{lc} ({x}) exceed {ll} ({y})"
                       for x, y in zip(b.shown(rows, c), b.shown(rows, lim), strict=True)],
                      f"{lc} are a subset of {ll}: check both numbers")
    if name == "xp_no_duplicate_rows":
        cols = [c for c in st.get("columns", []) if c in frame]
        import pandas as pd

        def key(values) -> tuple:  # blanks (NaN, NaT, None) compare equal, text by meaning
            return tuple(None if v is None or (not isinstance(v, str) and pd.isna(v))
                         else v.strip().casefold() if isinstance(v, str) else v for v in values)

        tuples = list(frame[cols].itertuples(index=False, name=None))
        firsts: dict[tuple, int] = {}
        for r, tup in zip(frame.index.tolist(), tuples, strict=True):
            firsts.setdefault(key(tup), r)
        target = "activity" if "activity" in frame else cols[0]
        named = ", ".join(b.header(c) for c in cols)
        return b.many("XP207", rows, target,
                      [f"row repeats row {firsts.get(key(tuples[i]), '?')} ({named} all the same)"
                       for i in b._positions(rows)],
                      "delete the copy, or change what makes it a different activity")
    if name == "xp_consistent":
        from xlplugin.engine.checks import consistent_expected
        c = st["column"]
        formulas = st.get("formulas", [])
        exp = consistent_expected(frame, formulas[0]) if formulas else None
        expected = exp.tolist() if exp is not None else None
        label = b.header(c)
        against = formulas[0] if formulas else "its inputs"
        at_rows = [expected[i] for i in b._positions(rows)] if expected is not None else []
        shown = [f" = {_fmt(float(e))}" if e == e else "" for e in at_rows] or [""] * len(rows)
        return b.many("XP210", rows, c,
                      [f"stored {label} {v} disagrees with {against}{e}"
                       for v, e in zip(b.shown(rows, c), shown, strict=True)],
                      f"use a formula for {label} so it follows its inputs")
    # A check from a team schema (or a pandera built-in): name + statistics.
    stats = ", ".join(f"{k}={v}" for k, v in st.items() if v is not None)
    what = f"{name}({stats})" if stats else name
    out: list[Finding] = []
    if not rows:
        out.append(b.whole("XP290", f"{b.header(col) if col else 'the plan'} fails {what}",
                           "see the team schema", col))
    if not col:
        return out + b.many("XP290", rows, "", [f"row fails {what}"] * len(rows), "see the team schema")
    vs = b.fvs(rows, col) if col in frame else [None] * len(rows)
    label = b.header(col)
    return out + b.many("XP290", rows, col, [f"{label} {v} fails {what}" for v in _fmts(vs)],
                        "see the team schema for what this check expects")


def _missing_column(b: _Builder, field: str) -> Finding:
    """Say what was looked for and which header comes closest."""
    names = _synonyms(field)
    headers = [c.header for c in b.plan.columns if c.header and not c.field]
    pool = {h.casefold(): h for h in headers}
    close: list[str] = []
    # A rename is suggested only for a near-miss spelling ("Budjet"): never "rename
    # 'Location' to 'Activity'".
    for n in names:
        close += difflib.get_close_matches(n.casefold(), list(pool), n=1, cutoff=0.8)
    best = pool[max(set(close), key=lambda h: max(difflib.SequenceMatcher(None, h, n.casefold()).ratio()
                                                  for n in names))] if close else None
    hint = (f'rename "{best}" to "{names[0]}"; ' if best else "") + "headers recognised for " \
        f"{field}: " + ", ".join(names[:6])
    # Say which synonyms were accepted for the columns that were found, so a user sees
    # the kind of header xlplugin recognises ("Campaign" as activity).
    by_synonym = [f'"{c.header}" as {c.field}' for c in b.plan.columns
                  if c.field and c.header and c.header.strip().casefold()
                  not in {n.casefold() for n in _FALLBACK_NAMES.get(c.field, [])[:1]} | {c.field}]
    if by_synonym:
        hint += "; accepted here: " + ", ".join(by_synonym[:4])
    msg = f'required column "{names[0]}" ({field}) not found in header row {b.plan.header_row}'
    if best:
        msg += f'; closest header is "{best}"'
    return Finding(rule="XP201", severity="error", sheet=b.plan.sheet, message=msg, hint=hint,
                   row=b.plan.header_row, scope="row")


def _synonyms(field: str) -> list[str]:
    """Header names locate accepts for a field, best first."""
    fallback = _FALLBACK_NAMES.get(field, [field.replace("_", " ").title()])
    try:
        from xlplugin.engine.locate import load_synonyms
        table = load_synonyms()
    except Exception:  # locate unavailable or its files unreadable: the short list will do
        return fallback
    # entries are (field, rank, synonym, ...): index them, the tail may grow
    names = sorted((v[1], v[2]) for v in table.values() if v[0] == field)
    out = [fallback[0]]
    for _, syn in names:
        if syn.casefold() not in {n.casefold() for n in out}:
            out.append(syn)
    return out


# --- plan-level rules --------------------------------------------------------------------

def _budget_cap(parsed: ParsedPlan, config: Config, b: _Builder) -> list[Finding]:
    if config.budget_cap is None or "budget" not in parsed.frame:
        return []
    total = float(parsed.frame["budget"].sum(skipna=True))
    if total <= config.budget_cap:
        return []
    over = total - config.budget_cap
    return [b.whole("XP301", f"total budget {_fmt(total)} is above the cap of {_fmt(float(config.budget_cap))} "
                             f"(by {_fmt(over)})",
                    f"cut {_fmt(over)} from the plan, or raise budget_cap in xlplugin.toml",
                    "budget", value=total)]


def _stages(parsed: ParsedPlan, labels: list[Label]) -> pd.Series:
    """Each plan row's stage (object Series on the frame's index; None when unlabelled)."""
    import pandas as pd

    lab = pd.Series({lab.row: lab.stage for lab in labels}, dtype=object)
    return lab.reindex(parsed.frame.index)


def _stage_floor(parsed: ParsedPlan, config: Config, labels: list[Label], b: _Builder) -> list[Finding]:
    if not labels or "budget" not in parsed.frame:
        return []
    stages = _stages(parsed, labels)
    budget = parsed.frame["budget"].where(parsed.frame["budget"] > 0, 0.0).fillna(0.0)
    sums = {s: float(budget[stages == s].sum()) for s in ("Upstream", "Downstream")}
    total = sums["Upstream"] + sums["Downstream"]
    if total <= 0:
        return []
    floor = config.stage_floor
    out = []
    shares = {k: v / total for k, v in sums.items()}
    for stage, other in (("Upstream", "Downstream"), ("Downstream", "Upstream")):
        if shares[stage] < floor:
            out.append(b.whole(
                "XP302",
                f"{stage.lower()} activities get {shares[stage]:.0%} of the budget "
                f"({_fmt(sums[stage])} of {_fmt(total)}; {other.lower()} {shares[other]:.0%}), "
                f"below the {floor:.0%} floor",
                f"plan some {stage.lower()} work, or lower stage_floor in xlplugin.toml "
                "(rows labelled Review count for neither side)", "budget", value=round(shares[stage], 4)))
    return out


@functools.lru_cache(maxsize=1)
def _kpi_vocab() -> dict[str, re.Pattern]:
    import yaml

    data = yaml.safe_load((_validators_dir() / KPI_STAGES).read_text(encoding="utf-8")) or {}
    out = {}
    for stage in ("upstream", "downstream"):
        words = sorted((str(w).strip().casefold() for w in data.get(stage, [])), key=len, reverse=True)
        out[stage] = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
    return out


def _kpi_stage(parsed: ParsedPlan, labels: list[Label], b: _Builder) -> list[Finding]:
    if not labels or "kpi" not in parsed.frame:
        return []
    vocab = _kpi_vocab()
    kpi = parsed.frame["kpi"]
    # Classify each distinct KPI text once: the stage it belongs to, or None.
    belongs: dict[str, str | None] = {}
    for text in kpi.dropna().unique().tolist():
        up, down = bool(vocab["upstream"].search(text)), bool(vocab["downstream"].search(text))
        belongs[text] = "Upstream" if up and not down else "Downstream" if down and not up else None
    kpi_stage = kpi.map(belongs)
    stages = _stages(parsed, labels)
    mismatch = stages.isin(["Upstream", "Downstream"]) & kpi_stage.notna() & (kpi_stage != stages)
    activity = parsed.frame.get("activity")
    mask = mismatch.to_numpy()
    acts = activity[mask].tolist() if activity is not None else None
    rows = mismatch.index[mask].tolist()
    messages, hints = [], []
    hint = {"upstream": "upstream work is measured by insight, awareness or perception (e.g. concept score)"
                        "; or correct the row's stage",
            "downstream": "downstream work is measured by conversions, revenue or ROI; or correct the row's stage"}
    for i, (text, stage) in enumerate(zip(kpi[mask].tolist(), stages[mask].tolist(), strict=True)):
        own = stage.lower()
        other = "downstream" if own == "upstream" else "upstream"
        name = str(acts[i]) if acts is not None and acts[i] else ""
        # a cell may hold 32,767 characters: quote a short head so the message fits a cell too
        what = f' "{name[:80]}{"..." if len(name) > 80 else ""}"' if name else ""
        article = "an" if own == "upstream" else "a"
        messages.append(f'KPI "{text}" measures {other} results, but this{what} is {article} {own} activity')
        hints.append(hint[own])
    return b.many("XP303", rows, "kpi", messages, hints)


# --- the driver -------------------------------------------------------------------------

def _merge(parse_findings: list[Finding], schema_findings: list[Finding]) -> list[Finding]:
    """One story per cell: an unreadable cell is not also 'missing'; a placeholder in a
    required column becomes the required-value error that mentions it."""
    by_cell = {(f.row, f.col): f for f in parse_findings if f.cell}
    out: list[Finding] = []
    replaced: set[int] = set()   # parse findings a schema finding takes over (by identity)
    for f in schema_findings:
        p = by_cell.get((f.row, f.col)) if f.cell else None
        if p is None:
            out.append(f)
        elif f.rule == "XP202" and p.rule == "XP106":
            replaced.add(id(p))
            label = f.message.split(" is required", 1)[0]
            f.message = f"{label} is required; {_fmt(p.value)} is a placeholder"
            f.value = p.value
            out.append(f)
        elif p.severity == "warning" and f.rule != "XP202":
            out.append(f)   # a readable text value is still checked (e.g. negative)
        # else: the parse error already tells the story of this cell
    return [f for f in parse_findings if id(f) not in replaced] + out


def check_plan(parsed: ParsedPlan, config: Config | None = None, labels: list[Label] | None = None,
               schema_path: Path | None = None) -> list[Finding]:
    """Every finding for one parsed plan, sorted by row then column."""
    config = config or Config()
    schema = load_schema(schema_path, parsed.plan.kind)
    schema = _runtime_schema(schema, parsed.plan, config, set(parsed.frame.columns))
    b = _Builder(parsed)
    # A weekday-grid calendar has entries in cells, not columns of fields: nothing for the schema.
    grid_layout = parsed.plan.layout == "weekday_grid"
    findings = _merge(list(parsed.findings), [] if grid_layout else _schema_findings(schema, parsed, b))
    findings += _budget_cap(parsed, config, b)
    # The upstream/downstream balance is a plan's and a budget's question, not a log's or a
    # media plan's (all advertising, all downstream by nature).
    if labels and parsed.plan.kind in ("activity_plan", "budget"):
        findings += _stage_floor(parsed, config, labels, b)
        findings += _kpi_stage(parsed, labels, b)
    findings.sort(key=lambda f: (f.row or 0, f.col or 0, f.rule))
    return findings
