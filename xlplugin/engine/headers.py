"""Header vocabulary: which canonical field a header text means, and by which synonym.

The vocabulary is `templates/columns.toml`, the language packs in `templates/headers/*.toml`
(same layout) and a team's own file (`[files] columns` in xlplugin.toml, tried first).

A header matches a synonym in one of three ways, strongest first:
  exact   the whole text, ignoring case, accents, spacing, punctuation, currency and units
          ("Budget (USD)" is "Budget");
  words   the synonym's words (stemmed) appear in order inside the header
          ("Anticipated\\nStart Date" holds "Start Date", "Ad_Spend" holds "Spend");
          the longest synonym wins, and a header that is a rate or a share ("Conversion_Rate",
          "Cost per Click", "Budget %") only matches a synonym that says so;
  chars   for Chinese and Japanese, which do not separate words: the synonym inside the text.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from xlplugin import model
from xlplugin.errors import XlpluginError

_CURRENCY = re.compile(r"[$€£¥₹₩₽¢₫]")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|（[^）]*）")
_WORDS = re.compile(r"[^\W_]+")
_UNIT_TOKENS = {"usd", "eur", "gbp", "jpy", "cad", "aud", "chf", "inr", "nzd", "sek", "k", "000s",
                "in", "amount", "vnd", "brl", "mxn", "cny", "rmb", "krw", "dkk", "nok", "pln",
                "руб", "rub", "р", "тыс", "чел", "грн", "uah", "тис"}
# Words that make a header a rate, ratio or share: such a header never matches a plain
# amount or count synonym ("Cost per Click" is not a cost, "Conversion_Rate" not conversions).
_RATE_WORDS = {"per", "rate", "ratio", "pct", "percent", "percentage", "share", "por", "par",
               "pro", "taux", "tasa", "taxa", "tasso", "ty", "moi", "quote", "je", "за"}
_RATE_CHARS = set("率比每単")
_STOP = {"of", "the", "a", "an", "de", "del", "la", "el", "los", "las", "do", "da", "dos", "das",
         "des", "du", "le", "les", "der", "die", "van", "het", "di", "della", "dei", "e",
         "y", "et", "und", "en", "and", "for", "to", "и", "в", "на",
         "і", "та", "у",
         "руб", "rub", "тыс", "грн", "uah", "тис"}   # a currency inside a header says nothing ("Стоимость, руб. без НДС")
_MODIFIERS = {"total", "sum", "net", "gross", "avg", "average", "overall", "grand", "estimated", "est",
              "planned", "actual"}
# A platform before a generic metric names whose it is ("Instagram Reach", "Facebook Leads"):
# the metric is still the column's field.
_PLATFORMS = {"facebook", "fb", "instagram", "insta", "ig", "linkedin", "twitter", "x", "tiktok",
              "youtube", "yt", "pinterest", "snapchat", "google", "meta", "bing", "reddit", "threads",
              "email", "web", "website", "organic", "paid", "social", "search", "display", "video"}
_DAX = re.compile(r"\s*(?:'[^']+'|[A-Za-z_][\w.]*)\[([^\[\]]+)\]\s*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def _fold(text: object) -> str:
    """Lower case without accents: 'Dépenses' -> 'depenses', 'Ngày bắt đầu' -> 'ngay bat dau'."""
    s = unicodedata.normalize("NFKC", str(text)).casefold().replace("đ", "d")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", s)


def _tokens(text: object, keep_brackets: bool = False) -> list[str]:
    s = _fold(text).replace("\n", " ")
    if not keep_brackets:
        s = _BRACKETS.sub(" ", s)
    s = _CURRENCY.sub(" ", s).replace("%", " pct ").replace("#", " no ").replace("&", " and ")
    tokens = _WORDS.findall(s)
    # Units and currency codes at either end: "Budget USD", "USD Budget", "Spend in k".
    while len(tokens) > 1 and tokens[-1] in _UNIT_TOKENS:
        tokens.pop()
    while len(tokens) > 1 and tokens[0] in _UNIT_TOKENS and tokens[0] not in ("in", "k", "amount"):
        tokens.pop(0)
    return tokens


def normalize_header(text: object) -> str:
    """'Budget (USD)' -> 'budget', ' Start-Date ' -> 'startdate', 'ROI %' -> 'roipct'."""
    key = "".join(_tokens(text))
    return key or "".join(_tokens(text, keep_brackets=True))


def _stem(word: str) -> str:
    """A crude stem shared by both sides of a match: 'Clicks' ~ 'click', 'Categories' ~ 'category'."""
    if not word.isascii() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(text: object, keep_brackets: bool = False) -> tuple[str, ...]:
    return tuple(_stem(t) for t in _tokens(text, keep_brackets) if t not in _STOP)


@dataclass(frozen=True)
class Match:
    """What a header means: the field, the synonym as written, how it matched."""

    field: str
    synonym: str
    how: str            # "exact", "words" (inside a longer header), "qualified" (after a platform
                        # or a modifier alone: "Instagram Reach") or "chars"
    generic: bool       # a generic word ("Name", "Item"): half evidence of a plan
    rank: int


# normalised synonym -> (field, rank, synonym as written, generic); check.py reads it too.
Synonyms = dict[str, tuple[str, int, str, bool]]


def _read_columns_file(data: dict, source: str) -> list[tuple[str, list[str]]]:
    table = data.get("columns", {k: v for k, v in data.items() if k not in ("generic", "language")})
    out = []
    for fld, syns in table.items():
        if fld not in model.FIELDS:
            raise XlpluginError(f"unknown field {fld!r} (known: {', '.join(model.FIELDS)})", file=source)
        if isinstance(syns, str):
            syns = [syns]
        if not isinstance(syns, list) or not all(isinstance(x, str) for x in syns):
            raise XlpluginError(f"{fld} must be a list of header texts", file=source)
        out.append((fld, syns))
    return out


def _generic(data: dict) -> set[str]:
    return {normalize_header(h) for h in data.get("generic", {}).get("headers", [])}


def _load_toml(text: str, source: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise XlpluginError(f"invalid TOML ({e})", file=source) from None


@lru_cache(maxsize=1)
def _shipped() -> tuple[tuple[tuple[str, tuple[str, ...]], ...], frozenset[str]]:
    """columns.toml first (its order sets the ranks), then every language pack."""
    root = resources.files("xlplugin.templates")
    files = [("columns.toml", root.joinpath("columns.toml").read_text("utf-8"))]
    packs = root.joinpath("headers")
    if packs.is_dir():
        files += sorted((f"headers/{p.name}", p.read_text("utf-8")) for p in packs.iterdir()
                        if p.name.endswith(".toml"))
    groups: list[tuple[str, tuple[str, ...]]] = []
    generic: set[str] = set()
    for name, text in files:
        data = _load_toml(text, name)
        groups += [(f, tuple(s)) for f, s in _read_columns_file(data, name)]
        generic |= _generic(data)
    return tuple(groups), frozenset(generic)


def load_synonyms(extra: str | Path | None = None) -> Synonyms:
    """The shipped synonyms (all languages), with `extra` (same TOML layout) tried first."""
    groups: list[tuple[str, list[str]]] = []
    default_groups, generic_keys = _shipped()
    generic = set(generic_keys)
    if extra is not None:
        path = Path(extra)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise XlpluginError(f"cannot read columns file ({e.strerror or e})", file=str(path)) from None
        data = _load_toml(text, str(path))
        groups += _read_columns_file(data, str(path))
        generic |= _generic(data)
    groups += [(f, list(s)) for f, s in default_groups]
    out: Synonyms = {}
    rank = 0
    for fld, syns in groups:
        for syn in syns:
            key = normalize_header(syn)
            if key and key not in out:
                out[key] = (fld, rank, syn, key in generic)
            rank += 1
    # The canonical field names match themselves ("stage_basis" -> "stagebasis").
    for fld in model.FIELDS:
        key = normalize_header(fld.replace("_", " "))
        out.setdefault(key, (fld, rank, fld, key in generic))
    return out


class Vocabulary:
    """Matches header texts against the synonyms (results cached per text)."""

    def __init__(self, synonyms: Synonyms) -> None:
        self.synonyms = synonyms
        phrases: dict[tuple[str, ...], tuple[str, int, str, bool]] = {}
        chars: list[tuple[str, str, int, str, bool]] = []
        for key, (fld, rank, syn, generic) in synonyms.items():
            words = _words(syn)
            if words and (words not in phrases or rank < phrases[words][1]):
                phrases[words] = (fld, rank, syn, generic)
            if _CJK.search(key):
                chars.append((key, fld, rank, syn, generic))
        self.phrases = phrases
        self.max_len = max((len(p) for p in phrases), default=1)
        self.chars = sorted(chars, key=lambda c: (-len(c[0]), c[2]))
        self._cache: dict[str, Match | None] = {}

    def match(self, text: object) -> Match | None:
        key = str(text)
        if key not in self._cache:
            self._cache[key] = self._match(key)
        return self._cache[key]

    def _match(self, text: str) -> Match | None:
        dax = _DAX.fullmatch(text)
        if dax:   # a Power BI / DAX export names its columns table[column]: 'data[Spend, GBP]'
            m = self._match(dax.group(1))
            if m:
                return m
        hit = self.synonyms.get(normalize_header(text))
        if hit:
            return Match(hit[0], hit[2], "exact", hit[3], hit[1])
        for keep in (False, True):
            words = _words(text, keep)
            if not words:
                continue
            if _CJK.search(text):
                m = self._chars(text, keep)
                if m:
                    return m
            m = self._phrase(words)
            if m:
                return m
        return None

    def _phrase(self, words: tuple[str, ...]) -> Match | None:
        best: tuple[int, int, tuple[str, int, str, bool]] | None = None
        n = len(words)
        for size in range(min(self.max_len, n), 0, -1):
            for i in range(n - size + 1):
                hit = self.phrases.get(words[i:i + size])
                # "Total Impressions" is impressions: a modifier alone loses to the noun.
                if hit and size == 1 and words[i] in _MODIFIERS and n > 1:
                    hit = (hit[0], hit[1] + 1_000_000, hit[2], hit[3])
                if hit and (best is None or (size, -hit[1]) > (best[0], -best[1])):
                    best = (size, hit[1], hit)
            if best is not None:
                break
        if best is None:
            return None
        size, _rank, (fld, rank, syn, generic) = best
        phrase = set(_words(syn))
        rate = {w for w in words if w in _RATE_WORDS} - phrase
        if rate:
            return None  # "Cost per Click" is not a cost
        # A synonym must be at least half the header: "Anticipated Start Date" is a start date,
        # "Trade show booth" (a data cell) is not a placement.
        # qualified: the platform or modifier comes first ('Instagram Reach'; 'Contact Email' is no contact)
        at = next(i for i in range(n - size + 1) if self.phrases.get(words[i:i + size]) is not None
                  and self.phrases[words[i:i + size]][2] == syn)
        qualified = size < n and at + size == n and set(words[:at]) <= _PLATFORMS | _MODIFIERS
        if size * 2 < len(words) and not qualified:
            return None
        # A generic word inside a longer header says little ("Currency code" is no ID).
        if generic and size < len(words) and not qualified:
            return None
        return Match(fld, syn, "qualified" if qualified else "words", generic, rank)

    def _chars(self, text: str, keep: bool) -> Match | None:
        s = normalize_header(text) if not keep else "".join(_tokens(text, True))
        for key, fld, rank, syn, generic in self.chars:
            if key in s:
                rest = s.replace(key, "", 1)
                if any(ch in _RATE_CHARS for ch in rest) and not any(ch in _RATE_CHARS for ch in key):
                    return None  # クリック率 (click rate) is not clicks
                if len(key) * 2 < len(s):
                    return None
                return Match(fld, syn, "chars", generic, rank)
        return None


@lru_cache(maxsize=8)
def vocabulary(extra: str | None = None) -> Vocabulary:
    """The vocabulary for a team's columns file (None: the shipped one)."""
    return Vocabulary(load_synonyms(extra))
