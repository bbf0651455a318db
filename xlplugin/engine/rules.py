"""The rule catalog: every finding's code, with what it means and how to fix it.

Codes are stable (documented in docs/rules.md, generated from here by
`python -m xlplugin.engine.rules > docs/rules.md`; a test keeps them in step).
XP1xx: a cell's type (parse), XP2xx: columns and values (the pandera schema),
XP3xx: the plan as a whole; XP4xx: stage labels (published by label.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name: str         # kebab-case, like ruff's rule names
    severity: str     # the default severity: "error" or "warning"
    summary: str
    why: str
    bad: str          # a small example (cells as the user typed them)
    fixed: str


RULES: tuple[Rule, ...] = (
    Rule("XP000", "file-not-checked", "error",
         "The file could not be checked at all: not found, not a workbook (a CSV, an old .xls), "
         "encrypted, damaged, open in Excel, already an xlplugin output, or no plan found in it.",
         "A CI gate must fail, not pass, on a plan it could not read; the message names the outcome "
         "and the hint says what to do.",
         "plan.csv", "plan.xlsx (opened in Excel and saved as an Excel workbook)"),
    Rule("XP101", "number-unreadable", "error",
         "A number column holds text that cannot be read as a number.",
         "The amount is lost: totals, budget shares and every check that needs the number skip "
         "the row. Look-alike letters (O for 0, l for 1) are the usual cause.",
         'Budget: "$1,2OO"', "Budget: 1200 (cell formatted as currency)"),
    Rule("XP102", "number-as-text", "error",
         "A number column holds a number typed as text; xlplugin can read it, but Excel does not see it.",
         "Excel's SUM, sorting and filters skip text, so the plan's own totals and the Summary's live "
         "formulas are short by that amount. `--fix` writes it back as a number (and `clear` undoes that).",
         'Budget: "$1,200"   Actual: " 300 "   Budget: "1.200,50"   Share: "12%"',
         "Budget: 1200   Actual: 300   Budget: 1200.50   Share: 0.12 (formatted as %)"),
    Rule("XP103", "date-unreadable", "error",
         "A date column holds something that cannot be read as a date.",
         "The activity cannot be placed in time: period checks, quarters and the timeline skip it.",
         'Start Date: "early March"', "Start Date: 2027-03-01 (cell formatted as a date)"),
    Rule("XP104", "date-as-text", "warning",
         "A date column holds a date typed as text; it was read, but Excel does not see a date.",
         "Text dates sort alphabetically and break date filters; an order like 03/01/2027 is read "
         "differently in the US and in Europe.",
         'Start Date: "03/01/2027"', "Start Date: 2027-03-01 (a real date cell)"),
    Rule("XP105", "date-as-serial", "warning",
         "A date column holds a plain number (an Excel date serial without a date format, or the "
         "date as eight digits, yyyymmdd, as ad platforms export it).",
         "Readers see 46447 instead of a date; a pasted serial is easy to get wrong by a day or a "
         "century (1900 vs 1904 date systems).",
         "Start Date: 46447", "Start Date: 2027-03-01 (same value, formatted as a date)"),
    Rule("XP106", "placeholder-value", "warning",
         "A number or date column holds a placeholder such as n/a, TBD or -.",
         "A placeholder is text: it hides that the value is missing from totals and checks. A blank "
         "cell says the same thing honestly (and required columns then report it).",
         'Leads: "n/a"   Budget: "TBD"', "Leads: (blank)   Budget: 15000"),
    Rule("XP107", "excel-error", "error",
         "An input cell holds an Excel error value (#DIV/0!, #REF!, #N/A, ...).",
         "An error poisons every formula that refers to it: the plan's totals show the error too.",
         "Budget: #REF!  (=Sheet2!B4 after Sheet2 was deleted)", "Budget: 15000"),
    Rule("XP201", "missing-column", "error",
         "A required column (activity, start, end, budget) was not found in the header row.",
         "Without it no row can be checked or summarised on that field. Headers are matched by "
         "common synonyms; the closest header is suggested when none matches.",
         "Header: ID | Campaign | Start | Finish | Budjet", "Header: ID | Campaign | Start | Finish | Budget"),
    Rule("XP202", "missing-value", "error",
         "A required value (activity, start date, end date, budget, owner) is blank or a placeholder.",
         "A row without a name, dates or budget cannot be reviewed, placed in the period, or totalled.",
         "Activity: Paid search   Budget: (blank)", "Activity: Paid search   Budget: 30000"),
    Rule("XP203", "negative-amount", "error",
         "Budget, forecast, actual, impressions, clicks, leads, conversions or revenue is negative.",
         "These are amounts and counts; a negative one is a typo or a refund recorded in the wrong "
         "place, and it shrinks every total it enters.",
         "Budget: -5000", "Budget: 5000"),
    Rule("XP204", "end-before-start", "error",
         "The end date is before the start date.",
         "Usually swapped dates or a wrong year; the activity gets a negative duration and lands "
         "in the wrong quarter.",
         "Start: 2027-05-10   End: 2027-04-12", "Start: 2027-04-12   End: 2027-05-10"),
    Rule("XP205", "outside-period", "error",
         "A start or end date falls outside the plan period (period_start..period_end in xlplugin.toml).",
         "Spend outside the period belongs to another plan: it inflates this plan's totals.",
         "Period 2027-01-01..2027-12-31, End: 2028-02-15", "End: 2027-12-31 (or split the activity)"),
    Rule("XP206", "duplicate-id", "error",
         "An activity ID is used by more than one row.",
         "IDs join the plan to actuals and other systems; a duplicate makes one activity's numbers "
         "land on the other.",
         "row 5 ID A-003, row 9 ID A-003", "row 9 ID A-009"),
    Rule("XP207", "duplicate-row", "warning",
         "A row repeats an earlier row (same activity, dates, budget, channel and owner).",
         "A copy-pasted row double-counts its budget.",
         "row 5 and row 9: Paid search, 2027-04-01..2027-06-30, 30000",
         "delete row 9 (or change what makes it a different activity)"),
    Rule("XP208", "not-allowed", "error",
         "Channel, status or stage is not one of the allowed values.",
         "Roll-ups by channel or status split one category into several when names drift "
         "(\"Serach\", \"Social media\" vs \"Social\"). The list comes from xlplugin.toml [allowed], "
         "a dropdown (list validation) on the column, or the template's lists; with no list, any "
         "value passes.",
         'Channel: "Serach"  (allowed: Search, Social, Events)', 'Channel: "Search"'),
    Rule("XP209", "more-than-possible", "error",
         "A count exceeds the count it is part of: conversions above leads, clicks above impressions.",
         "A conversion rate above 100% means one of the two numbers is wrong.",
         "Leads: 20   Conversions: 45", "Leads: 450   Conversions: 45"),
    Rule("XP210", "stored-figure-disagrees", "warning",
         "A stored ROI or variance disagrees with the plan's own inputs.",
         "Typed-in results go stale when the inputs change: ROI = (Revenue - Actual) / Actual, "
         "Variance = Actual - Budget. Use a formula, or let xlplugin add metric columns.",
         "Actual: 20000  Revenue: 60000  ROI: 3.5", "ROI: 2 (or =(Revenue-Actual)/Actual)"),
    Rule("XP290", "schema-check", "error",
         "A check from a team's own schema (--schema or [files] schema) failed.",
         "Teams encode their own conventions in pandera YAML; the message names the check and its "
         "settings.",
         "owner: {str_length: {max_value: 20}}, Owner: \"Marketing operations team lead\"",
         "Owner: \"Dana\""),
    Rule("XP301", "over-budget-cap", "error",
         "The plan's total budget is above the cap (budget_cap in xlplugin.toml).",
         "A plan over its cap cannot be approved as is.",
         "budget_cap = 250000, total budget 262000", "total budget 250000 or less"),
    Rule("XP302", "stage-below-floor", "warning",
         "Upstream or downstream activities get less than the floor share of the budget "
         "(stage_floor, default 10%).",
         "Both stages depend on each other: launch campaigns without research sell the wrong "
         "product; research without promotion never reaches customers. Rows labelled Review "
         "count for neither side.",
         "Upstream 4% of budget, downstream 96%", "Upstream 12%, downstream 88%"),
    Rule("XP303", "kpi-other-stage", "warning",
         "A row's KPI measures the other stage (a conversion rate on a focus group).",
         "Upstream work is judged by insight, awareness and perception; downstream work by "
         "conversions, revenue and ROI. A mismatched KPI usually means a wrong KPI or a "
         "mislabelled activity.",
         'Activity: Focus groups for new concept   KPI: "Conversion rate"',
         'KPI: "Concept score"'),
)

# Rules other stages publish (label.RULES: XP4xx) are catalogued here too, with their
# own wording, so docs/rules.md and the Validation sheet know every code.
_NAMES = {"XP401": "stage-contradicts-evidence"}


def _published() -> tuple[Rule, ...]:
    try:
        from xlplugin.engine.stages.label import RULES as label_rules
    except ImportError:  # pragma: no cover - label not installed in a trimmed build
        return ()
    out = []
    for d in label_rules:
        code = str(d["code"])
        out.append(Rule(code, str(d.get("name") or _NAMES.get(code, code.lower())), str(d["severity"]),
                        str(d["summary"]), str(d["why"]), str(d["bad"]),
                        str(d.get("fixed") or d.get("good", ""))))
    return tuple(out)


RULES = RULES + tuple(r for r in _published() if r.code not in {x.code for x in RULES})
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}


def rule(code: str) -> Rule:
    return BY_CODE[code]


def rules_markdown() -> str:
    """docs/rules.md, ruff style."""
    out = ["# Validation rules", "",
           "Every finding carries one of these codes. `XP1xx`: a cell's type; `XP2xx`: columns "
           "and values (the pandera schema in `validators/marketing_plan.yaml`); `XP3xx`: the plan "
           "as a whole; `XP4xx`: stage labels. Generated from `xlplugin/engine/rules.py` (`python -m xlplugin.engine.rules > docs/rules.md`).",
           "", "| Code | Name | Severity | Summary |", "|---|---|---|---|"]
    out += [f"| [{r.code}](#{r.code.lower()}-{r.name}) | {r.name} | {r.severity} | {r.summary} |"
            for r in RULES]
    for r in RULES:
        out += ["", f"## {r.code} {r.name}", "", f"**Severity:** {r.severity}", "",
                f"**What it does:** {r.summary}", "", f"**Why this matters:** {r.why}", "",
                "**Bad:**", "", "```text", r.bad, "```", "", "**Fixed:**", "", "```text", r.fixed, "```"]
    out += ["", "## Team schemas", "",
            "The checks behind XP2xx live in `validators/marketing_plan.yaml`, a pandera YAML schema "
            "whose columns are xlplugin's canonical fields (`activity`, `start`, `budget`, ...), whatever "
            "the header says. Add or override checks with `xlplugin check --schema team.yaml` or "
            "`[files] schema = \"team.yaml\"` in `xlplugin.toml`: a column defined there replaces the "
            "shipped column of that name; other columns and frame-level checks are added. A check name "
            "xlplugin does not know is an error, not silently ignored.", "",
            "Checks shipped in xlplugin (registered with pandera): `xp_not_negative(min_value)`, "
            "`xp_one_of(allowed)`, `xp_within_period(min_value, max_value)`, `xp_unique()`, "
            "`xp_ordered(first, then)`, `xp_not_above(column, limit)`, `xp_no_duplicate_rows(columns)`, "
            "`xp_consistent(column, formulas, tolerance)`. pandera's built-in checks (`in_range`, "
            "`str_length`, `isin`, ...) work too and are reported as XP290.", "",
            "```yaml", "schema_type: dataframe", "columns:", "  budget:", "    dtype: float64",
            "    nullable: false", "    required: true", "    xp_not_negative:", "      min_value: 500",
            "  owner:", "    dtype: object", "    nullable: true", "    required: false", "    xp_one_of:",
            "      allowed: [Dana, Luis, Priya, Sam]", "checks:", "- column: conversions",
            "  limit: clicks", "  options:", "    check_name: xp_not_above", "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(rules_markdown(), end="")
