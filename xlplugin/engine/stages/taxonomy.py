"""The stage taxonomy: a readable TOML file of phrases, weights and KPIs per stage.

Marketing ops extend it (or ship their own with `--taxonomy`); this module loads and
validates it and says which file and line is wrong when it is not right.  The file's
format is documented at the top of templates/taxonomy.toml.

A file may start with `extends = "default"` to add groups to the shipped taxonomy
instead of replacing it (its settings, fields and negations then override the shipped ones).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from xlplugin.errors import XlpluginError

STAGE_KEYS = {"upstream": "Upstream", "downstream": "Downstream", "review": "Review"}
TEXT_FIELDS = ("activity", "description", "category", "channel", "kpi", "objective")
DEFAULT_FIELD_WEIGHTS = {"activity": 1.0, "description": 0.8, "category": 0.6, "channel": 0.5,
                         "kpi": 0.6, "objective": 0.6}
# The fields KPI phrases are looked for in ("brand awareness" in an activity name is an
# awareness *campaign*, which is advertising; in the KPI column it is an upstream measure).
KPI_FIELDS = ("kpi", "objective")

_NON_WORD = re.compile(r"[^\w&+]+")


def normalize(text: str) -> str:
    """Lower case, punctuation and hyphens to single spaces: 'Post-launch SURVEY!' -> 'post launch survey'."""
    return _NON_WORD.sub(" ", text.lower()).replace("_", " ").strip()


@dataclass(frozen=True)
class Group:
    """Phrases that point to one stage, with one weight and a name used in reasons."""

    stage: str                   # Upstream | Downstream | Review (= evidence for "either")
    name: str                    # "research", "advertising" ... shown as "research: 'focus group'"
    weight: float
    phrases: tuple[str, ...]     # normalised
    kpi: bool = False            # KPI group: matched only in the KPI / objective columns
    line: int = 0                # where the group starts in its file (for messages)
    # A qualifier: phrases of these groups found in the same cell count for this group's
    # stage instead ("post-launch survey of buyers": the survey is after-sale work).
    flips: tuple[str, ...] = ()


@dataclass
class Taxonomy:
    groups: list[Group]
    field_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FIELD_WEIGHTS))
    negations: tuple[str, ...] = ("no", "not", "without", "excluding", "except", "non", "never")
    negation_window: int = 3     # words: "no paid media" drops 'paid media'
    # words that make a negation part of a compound instead ("no-code", "non-profit")
    not_negating: tuple[str, ...] = ("code", "profit", "for profit", "brainer", "show", "cost")
    # words saying a row does two things at once ("a survey that also collects leads"): with a
    # phrase of each stage beside them the row is Review (DOMAIN.md's genuinely ambiguous cases)
    both_words: tuple[str, ...] = ("also", "both", "doubles as", "double as", "as well as",
                                   "at the same time", "dual purpose", "double duty")
    review_below: float = 0.65   # a confidence under this is shown as Review
    confident: float = 0.8       # a label this sure may contradict a user's Stage (XP401)
    min_evidence: float = 0.5    # less total weight than this: no evidence, Review
    source: str = ""

    def phrase_count(self) -> int:
        return sum(len(g.phrases) for g in self.groups)


def _fail(msg: str, path: str, line: int = 0) -> XlpluginError:
    return XlpluginError(f"line {line}: {msg}" if line else msg, file=path)


def _header_lines(text: str) -> dict[str, list[int]]:
    """'[[upstream]]' -> [line numbers of each occurrence], for messages about a group."""
    out: dict[str, list[int]] = {}
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*\[\[?\s*([\w.]+)\s*\]\]?", line)
        if m:
            out.setdefault(m.group(1), []).append(i)
    return out


def _number(v: object, what: str, path: str, line: int, lo: float | None = None,
            hi: float | None = None) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(f"{what} must be a number, found {v!r}", path, line)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _fail(f"{what} must be between {lo} and {hi}, found {v}", path, line)
    return float(v)


def _phrases(v: object, what: str, path: str, line: int) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(p, str) for p in v):
        raise _fail(f"{what}: phrases must be a list of strings", path, line)
    out = []
    for p in v:
        n = normalize(p)
        if not n:
            raise _fail(f"{what}: phrase {p!r} has no letters or digits", path, line)
        out.append(n)
    return tuple(dict.fromkeys(out))


def parse_taxonomy(text: str, path: str = "<taxonomy>", base: Taxonomy | None = None) -> Taxonomy:
    """Parse and validate taxonomy TOML text.  Raises XlpluginError naming file and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise _fail(f"invalid TOML ({e})", path, int(m.group(1)) if m else 0) from None
    lines = _header_lines(text)
    known = {"extends", "settings", "fields", "negation", "dual", "kpi", *STAGE_KEYS}
    for key in data:
        if key not in known:
            raise _fail(f"unknown section [{key}] (expected one of: {', '.join(sorted(known))})",
                        path, (lines.get(key) or [0])[0])
    extends = data.get("extends")
    if extends is not None and extends != "default":
        raise _fail(f"extends must be \"default\", found {extends!r}", path, 1)
    groups: list[Group] = list(base.groups) if (extends == "default" and base) else []

    for key, stage in STAGE_KEYS.items():
        entries = data.get(key, [])
        if isinstance(entries, dict):
            entries = [entries]
        for i, g in enumerate(entries):
            occurrences = lines.get(key, [])
            line = occurrences[i] if i < len(occurrences) else 0
            if not isinstance(g, dict):
                raise _fail(f"[[{key}]] entries must be tables", path, line)
            extra = set(g) - {"name", "weight", "phrases", "flips"}
            if extra:
                raise _fail(f"[[{key}]]: unknown key(s) {', '.join(sorted(extra))}", path, line)
            name = g.get("name")
            if not isinstance(name, str) or not name.strip():
                raise _fail(f"[[{key}]] needs a name (shown in reasons)", path, line)
            weight = _number(g.get("weight", 1.0), f"[[{key}]] {name!r}: weight", path, line, 0, 10)
            flips = g.get("flips", [])
            if not isinstance(flips, list) or not all(isinstance(f, str) for f in flips):
                raise _fail(f"[[{key}]] {name!r}: flips must be a list of group names", path, line)
            groups.append(Group(stage, name.strip(), weight,
                                _phrases(g.get("phrases"), f"[[{key}]] {name!r}", path, line),
                                line=line, flips=tuple(flips)))

    kpi = data.get("kpi", {})
    if not isinstance(kpi, dict):
        raise _fail("[kpi] must be a table with upstream/downstream entries", path)
    for key, g in kpi.items():
        line = (lines.get(f"kpi.{key}") or lines.get("kpi") or [0])[0]
        if key not in ("upstream", "downstream") or not isinstance(g, dict):
            raise _fail(f"[kpi.{key}]: expected [kpi.upstream] or [kpi.downstream]", path, line)
        weight = _number(g.get("weight", 1.0), f"[kpi.{key}] weight", path, line, 0, 10)
        groups.append(Group(STAGE_KEYS[key], "KPI", weight,
                            _phrases(g.get("phrases"), f"[kpi.{key}]", path, line), kpi=True,
                            line=line))

    names = {g.name for g in groups if not g.kpi}
    for g in groups:
        unknown = [f for f in g.flips if f not in names]
        if unknown:
            raise _fail(f"group {g.name!r}: flips names unknown group(s) {', '.join(unknown)}", path, g.line)
    # One phrase, one stage: the same phrase under two stages is a mistake someone will
    # hunt for later ("why is 'survey' never decided?").
    seen: dict[tuple[str, bool], Group] = {}
    for g in groups:
        for p in g.phrases:
            other = seen.get((p, g.kpi))
            if other is not None and other.stage != g.stage:
                raise _fail(f"phrase {p!r} is listed under both {other.stage} ({other.name!r}, line "
                            f"{other.line}) and {g.stage} ({g.name!r})", path, g.line)
            seen[(p, g.kpi)] = g
    if not any(g.stage == "Upstream" for g in groups) or not any(g.stage == "Downstream" for g in groups):
        raise _fail("the taxonomy needs at least one [[upstream]] and one [[downstream]] group", path)

    tax = Taxonomy(groups=groups, source=path)
    if base is not None and extends == "default":
        tax.field_weights = dict(base.field_weights)
        tax.negations, tax.negation_window = base.negations, base.negation_window
        tax.not_negating, tax.both_words = base.not_negating, base.both_words
        tax.review_below, tax.confident, tax.min_evidence = (
            base.review_below, base.confident, base.min_evidence)

    settings = data.get("settings", {})
    sline = (lines.get("settings") or [0])[0]
    for key in settings:
        if key not in ("review_below", "confident", "min_evidence", "negation_window"):
            raise _fail(f"[settings]: unknown key {key!r}", path, sline)
    if "review_below" in settings:
        tax.review_below = _number(settings["review_below"], "review_below", path, sline, 0.5, 1)
    if "confident" in settings:
        tax.confident = _number(settings["confident"], "confident", path, sline, 0.5, 1)
    if "min_evidence" in settings:
        tax.min_evidence = _number(settings["min_evidence"], "min_evidence", path, sline, 0, 100)
    if "negation_window" in settings:
        tax.negation_window = int(_number(settings["negation_window"], "negation_window", path,
                                          sline, 0, 10))

    fields_ = data.get("fields", {})
    fline = (lines.get("fields") or [0])[0]
    for key, v in fields_.items():
        if key not in TEXT_FIELDS:
            raise _fail(f"[fields]: {key!r} is not a text field ({', '.join(TEXT_FIELDS)})", path, fline)
        tax.field_weights[key] = _number(v, f"[fields] {key}", path, fline, 0, 10)

    neg = data.get("negation", {})
    if neg:
        nline = (lines.get("negation") or [0])[0]
        if not isinstance(neg, dict) or set(neg) - {"words", "compounds"}:
            raise _fail("[negation] takes `words` and `compounds` lists", path, nline)
        if "words" in neg:
            tax.negations = _phrases(neg["words"], "[negation] words", path, nline)
        if "compounds" in neg:
            tax.not_negating = _phrases(neg["compounds"], "[negation] compounds", path, nline)
    dual = data.get("dual", {})
    if dual:
        dline = (lines.get("dual") or [0])[0]
        if not isinstance(dual, dict) or set(dual) != {"words"}:
            raise _fail("[dual] takes a `words` list", path, dline)
        tax.both_words = _phrases(dual["words"], "[dual] words", path, dline)
    return tax


def shipped_taxonomy_text() -> str:
    """The taxonomy shipped with the package (installed), else the repo's templates/ copy."""
    try:
        from importlib.resources import files
        return files("xlplugin.templates").joinpath("taxonomy.toml").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        repo = Path(__file__).resolve().parents[3] / "templates" / "taxonomy.toml"
        return repo.read_text(encoding="utf-8")


@lru_cache(maxsize=8)
def _load_cached(path: str | None, mtime: float) -> Taxonomy:
    if path is None:
        return parse_taxonomy(shipped_taxonomy_text(), "taxonomy.toml (shipped)")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise XlpluginError(f"cannot read taxonomy ({e.strerror or e})", file=path) from None
    except UnicodeDecodeError:
        raise XlpluginError("taxonomy is not UTF-8 text", file=path) from None
    return parse_taxonomy(text, path, base=_load_cached(None, 0.0))


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Load a taxonomy file (None: the shipped one).  Cached per file and modification time."""
    if path is None:
        return _load_cached(None, 0.0)
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError as e:
        raise XlpluginError(f"cannot read taxonomy ({e.strerror or e})", file=str(p)) from None
    return _load_cached(str(p), mtime)
