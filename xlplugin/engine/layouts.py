"""Layouts that are not one row per item: months or dates across the columns.

A budget by month keeps one row per line item and one column per month ("Jan", "Feb", ...,
"Q1", "2027-01", real dates, "Tháng 1", "1月").  locate records those columns as the plan's
periods; `period_values` reads them as one row per item and period (unpivoted), typed as
numbers with the same findings as any number cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata

from xlplugin.model import CellValue, Finding, Grid, PlanTable, cell_ref

_MONTHS: dict[str, int] = {}
for _i, _names in enumerate([
    "january jan enero ene janeiro janvier janv januar janner gennaio gen januari",
    "february feb febrero febreiro fevereiro fev fevrier fevr februar febbraio februari",
    "march mar marzo marco mars maerz marz maart",
    "april apr abril avril aprile",
    "may mayo maio mai maggio mei",
    "june jun junio junho juin juni giugno giu",
    "july jul julio julho juillet juil juli luglio lug",
    "august aug agosto ago aout august agosto augustus",
    "september sep sept septiembre setiembre setembro set septembre settembre",
    "october oct octubre outubro out octobre oktober ottobre ott okt",
    "november nov noviembre novembro novembre",
    "december dec diciembre dic dezembro dez decembre dezember dicembre",
], start=1):
    for _n in _names.split():
        _MONTHS.setdefault(_n, _i)

_QUARTER = re.compile(r"^(?:q|t|quarter|trimestre|quartal|kwartaal|quy)\s*([1-4])(?:\s*(?:fy)?\s*'?\d{2,4})?$"
                      r"|^([1-4]|i{1,3}|iv)\s*кв(?:артал)?\.?(?:\s*\d{4})?$")
_QUARTER_2 = re.compile(r"^(?:fy\s*)?'?\d{2,4}\s*q([1-4])$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$|^(\d{1,2})[-/.](\d{4})$")
_NUMBERED = re.compile(r"^(?:month|mes|mois|monat|mese|maand|thang|week|semana|semaine|woche|settimana|"
                       r"wk|w|m|p|period|periodo|periode|tuan|месяц|неделя|нед|місяць|тиждень|тиж)\s*(\d{1,2})$")
_CJK_MONTH = re.compile(r"^(\d{1,2}|[一二三四五六七八九十]|十[一二])\s*月(?:份)?$")
_WORD = re.compile(r"[^\W\d_]+")

_WEEKDAYS: dict[str, int] = {}
for _i, _names in enumerate([
    "monday mon lunes lun segunda seg lundi montag mo lunedi maandag ma t2 月 月曜日 星期一 周一 週一",
    "tuesday tue tues martes mar terca ter mardi dienstag di martedi dinsdag t3 火 火曜日 星期二 周二 週二",
    "wednesday wed miercoles mie quarta qua mercredi mittwoch mi mercoledi woensdag wo t4 水 水曜日 星期三 周三 週三",
    "thursday thu thurs jueves jue quinta qui jeudi donnerstag do giovedi donderdag t5 木 木曜日 星期四 周四 週四",
    "friday fri viernes vie sexta sex vendredi freitag fr venerdi vrijdag vr t6 金 金曜日 星期五 周五 週五",
    "saturday sat sabado sab samedi samstag sa sabato zaterdag za t7 土 土曜日 星期六 周六 週六",
    "sunday sun domingo dom dimanche sonntag so domenica zondag zo cn 日 日曜日 星期日 星期天 周日 週日",
]):
    _WEEKDAYS.setdefault(_names.split()[0], _i)
    for _n in _names.split():
        _WEEKDAYS.setdefault(_n, _i)
# Vietnamese weekday names are two words.
_WEEKDAYS.update({"thu hai": 0, "thu ba": 1, "thu tu": 2, "thu nam": 3, "thu sau": 4, "thu bay": 5,
                  "chu nhat": 6})


def _fold(text: str) -> str:
    if text.isascii():       # most cells: no accents to strip (locate folds every cell of 300 rows)
        return text.lower().strip(" .:")
    s = unicodedata.normalize("NFKD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in s if not unicodedata.combining(ch)).strip(" .:")


# Russian and Ukrainian names, folded as cells are ('май' reads 'маи'): months, then weekdays.
_CYRILLIC_MONTHS = (
    ["январь янв", "февраль фев февр", "март мар", "апрель апр", "май", "июнь июн", "июль июл", "август авг",
     "сентябрь сен сент", "октябрь окт", "ноябрь ноя нояб", "декабрь дек"],
    ["січень січ", "лютий лют", "березень бер", "квітень квіт кві", "травень трав тра", "червень черв чер",
     "липень лип", "серпень серп сер", "вересень вер", "жовтень жовт жов", "листопад лист лис", "грудень груд гру"],
)
_CYRILLIC_WEEKDAYS = (
    ["понедельник пн", "вторник вт", "среда ср", "четверг чт", "пятница пт", "суббота сб", "воскресенье вс"],
    ["понеділок пн", "вівторок вт", "середа ср", "четвер чт", "п'ятниця п’ятниця пт", "субота сб", "неділя нд"],
)
for _table, _lists, _start in ((_MONTHS, _CYRILLIC_MONTHS, 1), (_WEEKDAYS, _CYRILLIC_WEEKDAYS, 0)):
    for _names_of in _lists:
        for _i, _names in enumerate(_names_of, start=_start):
            for _n in _names.split():
                _table.setdefault(_fold(_n), _i)


def period_label(v: CellValue) -> str | None:
    """A header cell that names a period: 'Jan', 'February 2027', 'Q3', '2027-01', a date."""
    if isinstance(v, dt.datetime | dt.date):
        return v.strftime("%Y-%m-%d") if not isinstance(v, dt.datetime) or v.time() == dt.time(0) \
            else v.isoformat()
    if isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer() \
            and 1990 <= v <= 2100:
        return str(int(v))   # years across: 2026 | 2027 | 2028
    if not isinstance(v, str):
        return None
    return _period_text(v)


@functools.lru_cache(maxsize=8192)
def _period_text(v: str) -> str | None:
    """period_label of a text; cached, as locate tries each of the first 300 rows as a header
    and a plan's texts repeat (owners, channels, KPIs)."""
    s = _fold(v)
    if re.fullmatch(r"(?:fy\s*'?)?(?:19|20)\d{2}|fy\s*'?\d{2}", s):
        return v.strip()
    if not s or len(s) > 24:
        return None
    if _QUARTER.match(s) or _QUARTER_2.match(s) or _YEAR_MONTH.match(s) or _NUMBERED.match(s) \
            or _CJK_MONTH.match(s) or re.match(r"^thang\s*\d{1,2}$", s):
        return v.strip()
    words = _WORD.findall(s)
    if words and words[0] in _MONTHS and len(words) <= 2 and all(
            w in _MONTHS or w in ("fy", "budget", "actual", "plan", "spend") for w in words):
        rest = re.sub(r"[^\W\d_]+", "", s)
        if re.fullmatch(r"[\s\-'/.,]*(\d{2}|\d{4})?[\s\-'/.,]*", rest):
            return v.strip()
    return None


def weekday(v: CellValue) -> int | None:
    """0 for a header cell reading 'Monday' (any language we know), ..., 6 for Sunday."""
    if not isinstance(v, str):
        return None
    s = _fold(v)
    return _WEEKDAYS.get(s)


def _period_type(v: CellValue) -> str:
    if isinstance(v, dt.datetime | dt.date):
        return "date"
    s = _fold(str(v))
    if isinstance(v, int | float) or re.fullmatch(r"(?:fy\s*'?)?\d{2,4}", s):
        return "year"
    if _QUARTER.match(s) or _QUARTER_2.match(s):
        return "quarter"
    return "month"


def period_columns(headers: dict[int, CellValue]) -> dict[int, str]:
    """The columns of a header row that name periods: a run of at least three of one sort
    (months, quarters or dates, in increasing order), next to each other.  A data row with a
    start date, an end date and "Q2" is not a header of periods."""
    found = {c: (lab, _period_type(headers[c])) for c, v in sorted(headers.items())
             if (lab := period_label(v)) is not None}
    best: list[int] = []
    run: list[int] = []
    for c in sorted(found):
        if run and (c - run[-1] > 2 or found[c][1] != found[run[-1]][1] or not _after(headers[run[-1]], headers[c])):
            run = []
        run.append(c)
        if len(run) > len(best):
            best = list(run)
    if len(best) < 3:
        return {}
    if found[best[0]][1] == "date" and len(best) < 4:
        return {}
    return {c: found[c][0] for c in best}


def _after(a: CellValue, b: CellValue) -> bool:
    """Dates across the columns increase; month and quarter names may repeat by year."""
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return b > a
    ya, yb = _year(a), _year(b)
    if ya is not None or yb is not None:
        return ya is not None and yb is not None and yb == ya + 1   # 2026 | 2027 | 2028, not amounts
    return a != b


def _year(v: CellValue) -> int | None:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return int(v)
    m = re.fullmatch(r"(?:fy\s*'?)?(\d{2}|\d{4})", _fold(str(v)))
    return int(m.group(1)) % 100 + 2000 if m else None


def weekday_columns(cells: dict[int, CellValue]) -> dict[int, str]:
    """A header row of weekday names next to each other: col -> the name as written.  Five
    different days at least, or four in the week's order with no gap between their columns (a
    schedule of the posting days only: MONDAY | WEDNESDAY | FRIDAY | SUNDAY).  Empty when the
    row is not one."""
    found = {c: str(v).strip() for c, v in sorted(cells.items()) if weekday(v) is not None}
    cols = sorted(found)
    if len(cols) < 4 or cols[-1] - cols[0] > len(cols) + 1:
        return {}
    days = [weekday(cells[c]) for c in cols]
    if len(set(days)) >= 5:
        return found
    if len(set(days)) == 4 and cols[-1] - cols[0] == 3 and days == sorted(days):
        return found
    return {}


def grid_entries(grid: Grid, plan: PlanTable):
    """A weekday-grid calendar's entries: one row per text cell under a weekday (day numbers
    and dates, which mark the weeks, are not entries).  Returns (DataFrame[row, item, period,
    col, amount], findings): the same shape as period_values, amount always None."""
    import pandas as pd

    records = []
    for r in plan.data_rows:
        for c, day in plan.periods.items():
            v = grid.value(r, c)
            if isinstance(v, str) and v.strip() and not v.strip().isdigit():
                records.append((r, v.strip(), day, c, None))
    return pd.DataFrame.from_records(records, columns=["row", "item", "period", "col", "amount"]), []


def period_values(grid: Grid, plan: PlanTable, label_field: str | None = None):
    """The period cells as one row per item and period, and findings for cells that are
    not numbers.  Returns (DataFrame[row, item, period, col, amount], findings)."""
    import pandas as pd

    from xlplugin.engine.parse import PLACEHOLDERS, read_number

    label = plan.fields.get(label_field or "") or next(
        (plan.fields[f] for f in ("activity", "category", "channel", "placement") if f in plan.fields), None)
    if label is None:  # "Team | Q1 | Q2 ...": the column left of the periods names the rows
        left = [c for c in plan.columns if c.col < min(plan.periods)]
        label = left[-1] if left else None
    records = []
    findings: list[Finding] = []
    for r in plan.data_rows:
        item = grid.value(r, label.col) if label is not None else None
        for c, lab in plan.periods.items():
            v = grid.value(r, c)
            amount = None
            if isinstance(v, bool):
                amount = None
            elif isinstance(v, int | float):
                amount = float(v)
            elif isinstance(v, str) and v.strip().casefold() in PLACEHOLDERS:
                findings.append(_finding(plan, r, c, lab, v, "XP106", "warning",
                                         f'{lab} holds the placeholder "{v.strip()}" instead of a number',
                                         "leave the cell blank until the value is known, or type it"))
            elif isinstance(v, str) and v.strip():
                amount = read_number(v)
                if amount is None:
                    findings.append(_finding(plan, r, c, lab, v, "XP101", "error",
                                             f'{lab} must be a number, found "{v}"',
                                             "type digits only (e.g. 1200)"))
                else:
                    findings.append(_finding(plan, r, c, lab, v, "XP102", "warning",
                                             f'{lab} is text "{v}", read as {amount:,.10g}',
                                             f"type {amount:g} in a number-formatted cell so sums see it"))
            if amount is not None and amount < 0:
                findings.append(_finding(plan, r, c, lab, v, "XP203", "error",
                                         f"{lab} must not be negative, found {amount:,.0f}",
                                         "record refunds or savings in their own row"))
            records.append((r, None if item is None else str(item).strip(), lab, c, amount))
    frame = pd.DataFrame.from_records(records, columns=["row", "item", "period", "col", "amount"])
    return frame, findings


def _finding(plan: PlanTable, row: int, col: int, header: str, value: CellValue, rule: str, severity: str,
             message: str, hint: str) -> Finding:
    return Finding(rule=rule, severity=severity, sheet=plan.sheet, message=message, hint=hint,  # type: ignore[arg-type]
                   cell=cell_ref(row, col), row=row, col=col, column=header, value=value)
