"""Team settings: plan period, budget cap, stage floor, allowed lists, extra files.

Read from `xlplugin.toml` (beside the workbook, else the working directory) or an
explicit `--config FILE`.  Every key is optional:

    [plan]
    period_start = 2027-01-01       # dates outside the period are flagged
    period_end = 2027-12-31
    budget_cap = 250000             # total budget above this is an error
    stage_floor = 0.10              # each stage's share of budget should be above this
    fiscal_year_start = 4           # month the fiscal year starts (1 = January)

    [allowed]                       # allowed values per field (else from the workbook)
    channel = ["Search", "Social", "Events"]

    [rollup.plans]                  # region and owner of each plan in `xlplugin rollup`
    "EMEA/*.xlsx" = { region = "EMEA" }          # (a file name or glob; else the plan's own
    "plan_dana.xlsx" = { owner = "Dana" }        #  Owner / Region columns; else blank)
    [run]                           # batches (xlplugin run/check over many files)
    jobs = 4                        # local worker processes (default: one per core)
    scheduler = "tcp://10.0.0.5:8786"   # a Dask distributed cluster instead (shared storage)

    [files]
    columns = "my-columns.toml"     # extra header synonyms
    schema = "my-schema.yaml"       # pandera YAML schema replacing/adding to the shipped one
    taxonomy = "my-taxonomy.toml"
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from xlplugin.errors import XlpluginError

CONFIG_NAME = "xlplugin.toml"


@dataclass
class Config:
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    budget_cap: float | None = None
    stage_floor: float = 0.10
    fiscal_year_start: int = 1
    allowed: dict[str, list[str]] = field(default_factory=dict)
    columns_file: Path | None = None
    schema_file: Path | None = None
    taxonomy_file: Path | None = None
    sheet: str | None = None
    jobs: int = 0
    scheduler: str | None = None
    source: Path | None = None
    rollup_plans: dict[str, dict[str, str]] = field(default_factory=dict)   # pattern -> region/owner


def _date(v: object, key: str, path: Path) -> dt.date | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise XlpluginError(f"{key} must be a date like 2027-01-01, found {v!r}",
                            file=str(path)) from None


def load_config(path: str | Path | None = None, near: str | Path | None = None) -> Config:
    """Load the config file: `path` if given, else xlplugin.toml beside `near` or in cwd."""
    if path is None:
        candidates = []
        if near is not None:
            candidates.append(Path(near).resolve().parent / CONFIG_NAME)
        candidates.append(Path.cwd() / CONFIG_NAME)
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise XlpluginError(f"cannot read config ({e.strerror or e})", file=str(path)) from None
    except tomllib.TOMLDecodeError as e:
        raise XlpluginError(f"invalid TOML ({e})", file=str(path)) from None
    plan = data.get("plan", {})
    run = data.get("run", {})
    files = data.get("files", {})
    base = path.resolve().parent

    def rel(key: str) -> Path | None:
        v = files.get(key)
        return (base / v) if v else None

    try:
        cfg = Config(
            period_start=_date(plan.get("period_start"), "period_start", path),
            period_end=_date(plan.get("period_end"), "period_end", path),
            budget_cap=float(plan["budget_cap"]) if "budget_cap" in plan else None,
            stage_floor=float(plan.get("stage_floor", 0.10)),
            fiscal_year_start=int(plan.get("fiscal_year_start", 1)),
            allowed={k: [str(x) for x in v] for k, v in data.get("allowed", {}).items()},
            columns_file=rel("columns"),
            schema_file=rel("schema"),
            taxonomy_file=rel("taxonomy"),
            sheet=plan.get("sheet"),
            jobs=int(run.get("jobs", 0)),
            scheduler=str(run["scheduler"]) if run.get("scheduler") else None,
            source=path,
            rollup_plans={str(k): {f: str(v[f]) for f in ("region", "owner") if f in v}
                          for k, v in data.get("rollup", {}).get("plans", {}).items()
                          if isinstance(v, dict)},
        )
    except (TypeError, ValueError) as e:
        raise XlpluginError(f"invalid setting ({e})", file=str(path)) from None
    if not 1 <= cfg.fiscal_year_start <= 12:
        raise XlpluginError("fiscal_year_start must be a month number 1-12", file=str(path))
    return cfg
