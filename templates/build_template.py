"""Build templates/plan-template.xlsx (the plan `xlplugin new` copies) and
templates/plan-template-empty.xlsx (the same with one blank row: `xlplugin new --empty`).

Run: python templates/build_template.py [OUT [EMPTY_OUT]]

An Excel Table named `Plan` on sheet "Plan" (dropdowns for Channel, Status, Stage and
Category from the "Lists" sheet, date and currency formats, frozen header), a dozen
sample rows, and an "Instructions" sheet.  XlsxWriter writes a new file; the build is
reproducible (fixed document dates).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
OUT = HERE / "plan-template.xlsx"
EMPTY_OUT = HERE / "plan-template-empty.xlsx"
BUILD_DATE = dt.datetime(2026, 11, 1, 9, 0, 0)

# (header, width, kind) -- kind picks the number format and data validation.
COLUMNS = [
    ("ID", 8, "text"), ("Activity", 34, "text"), ("Description", 46, "wrap"),
    ("Category", 16, "category"), ("Channel", 14, "channel"), ("Owner", 12, "text"),
    ("Start Date", 12, "date"), ("End Date", 12, "date"), ("Quarter", 9, "quarter"),
    ("Status", 12, "status"), ("Budget", 12, "money"), ("Actual", 12, "money"),
    ("KPI", 22, "text"), ("Target", 10, "int"), ("Leads", 9, "int"),
    ("Conversions", 12, "int"), ("Revenue", 13, "money"), ("Stage", 12, "stage"),
]
HEADERS = [c[0] for c in COLUMNS]

CHANNELS = ["Research", "Product", "Brand", "Strategy", "Partners", "Search", "Social", "Display",
            "Video", "Email", "Events", "Content", "PR", "Web", "Direct mail", "Print", "Sales",
            "Customer success", "Other"]
STATUSES = ["Planned", "In progress", "Done", "Cancelled"]
STAGES = ["Upstream", "Downstream", "Review"]
CATEGORIES = ["Market research", "Product & pricing", "Brand & positioning", "Partnerships",
              "Advertising", "Events", "Content", "Email & CRM", "Sales enablement",
              "Customer marketing", "Other"]

D = dt.date
# ID, Activity, Description, Category, Channel, Owner, Start, End, Status, Budget, Actual,
# KPI, Target, Leads, Conversions, Revenue, Stage.  (Quarter is a formula.)
SAMPLE_ROWS = [
    ["MP-01", "Customer needs survey", "Online survey of 400 IT buyers on their top pain points",
     "Market research", "Research", "Dana", D(2027, 1, 11), D(2027, 2, 12), "Done", 12000, 11400,
     "Insight report delivered", None, None, None, None, "Upstream"],
    ["MP-02", "Competitor pricing analysis", "Benchmark list prices and discounting of five rivals",
     "Product & pricing", "Research", "Luis", D(2027, 1, 18), D(2027, 2, 26), "Done", 6000, 6000,
     "Pricing recommendation", None, None, None, None, "Upstream"],
    ["MP-03", "Concept test for the new reporting module", "Three focus groups with admins and analysts",
     "Product & pricing", "Research", "Luis", D(2027, 2, 15), D(2027, 3, 19), "In progress", 18000, 9000,
     "Concept score", 70, None, None, None, "Upstream"],
    ["MP-04", "Brand positioning workshop", "Two-day workshop to refresh positioning and messaging",
     "Brand & positioning", "Brand", "Priya", D(2027, 3, 1), D(2027, 3, 2), "Planned", 9500, 0,
     "Positioning statement", None, None, None, None, "Upstream"],
    ["MP-05", "Launch sales training", "Train account executives on the new module before launch",
     "Sales enablement", "Sales", "Sam", D(2027, 4, 5), D(2027, 4, 16), "Planned", 7000, 0,
     "Reps certified", 40, None, None, None, "Downstream"],
    ["MP-06", "Paid search: launch keywords", "Google and Bing ads on launch keywords",
     "Advertising", "Search", "Priya", D(2027, 4, 19), D(2027, 6, 30), "Planned", 30000, 0,
     "Leads", 600, None, None, None, "Downstream"],
    ["MP-07", "LinkedIn retargeting", "Retarget site visitors with demo offers",
     "Advertising", "Social", "Priya", D(2027, 5, 1), D(2027, 7, 31), "Planned", 15000, 0,
     "Demo requests", 150, None, None, None, "Downstream"],
    ["MP-08", "Industry expo booth", "Booth and live demos at the annual analytics expo",
     "Events", "Events", "Sam", D(2027, 5, 10), D(2027, 5, 12), "Planned", 25000, 0,
     "Leads", 250, None, None, None, "Downstream"],
    ["MP-09", "Customer webinar series", "Monthly how-to webinars for existing customers",
     "Customer marketing", "Content", "Dana", D(2027, 6, 1), D(2027, 12, 15), "Planned", 4000, 0,
     "Attendees", 600, None, None, None, "Downstream"],
    ["MP-10", "Nurture email program", "Five-step nurture for trial sign-ups",
     "Email & CRM", "Email", "Dana", D(2027, 4, 19), D(2027, 12, 31), "Planned", 3000, 0,
     "Trial-to-paid rate", 15, None, None, None, "Downstream"],
    ["MP-11", "Beta program", "Early access for 20 customers; feedback shapes the GA release",
     "Product & pricing", "Product", "Luis", D(2027, 2, 1), D(2027, 4, 2), "In progress", 5000, 2500,
     "Beta participants", 20, None, None, None, "Review"],
    ["MP-12", "Thought-leadership blog", "Two articles a month on analytics practice",
     "Content", "Content", "Ana", D(2027, 1, 4), D(2027, 12, 20), "In progress", 8000, 1200,
     "Organic visits", 20000, None, None, None, "Review"],
]

INSTRUCTIONS = [
    ("Marketing plan template", "title"),
    ("One row per activity on the Plan sheet. The Plan table grows by itself: type in the first "
     "empty row under it. Keep the column headers as they are (you may add columns to the right).", ""),
    ("Columns", "heading"),
    ("ID: a short unique code for the activity (MP-13).", ""),
    ("Activity: what you will do, in a few words. Description: the detail a reviewer needs.", ""),
    ("Category and Channel: pick from the dropdowns (the lists live on the Lists sheet; "
     "add values there if you need more).", ""),
    ("Owner (required): the person accountable for the activity.", ""),
    ("Start Date and End Date: real dates (2027-03-01), the end on or after the start. "
     "Quarter is worked out from the Start Date.", ""),
    ("Status: Planned, In progress, Done or Cancelled.", ""),
    ("Budget: planned spend. Actual: what has been spent so far. Both in dollars, as numbers.", ""),
    ("KPI and Target: the measure of success and the number you aim for. "
     "Leads, Conversions and Revenue: results as they come in.", ""),
    ("Stage: Upstream, Downstream, or Review when it is unclear. Leave it empty and "
     "xlplugin's Label stages fills it in with its reasons.", ""),
    ("Upstream and downstream", "heading"),
    ("The dividing line is the release of the product for sale.", ""),
    ("Upstream marketing happens before the product is for sale and decides what to offer, to whom "
     "and why: market research, customer insight, segmentation, competitor analysis, product and "
     "concept development, pricing research, brand identity and positioning, partnerships. It is "
     "long-term and judged by awareness, perception and positioning.", ""),
    ("Downstream marketing brings the finished offer to customers and keeps them: advertising, "
     "promotions, pricing tactics, channels and distribution, sales and sales training, launch "
     "collateral, trade shows and demos, email, retargeting, loyalty, customer training and support. "
     "It is short-term and judged by conversions, revenue, ROI and retention.", ""),
    ("Follow the dividing line, not the words: pricing research is upstream, a price promotion "
     "downstream; a brand positioning workshop is upstream, a rebranding ad campaign downstream; "
     "training sales reps before launch is downstream because it faces the customer.", ""),
    ("Some activities are genuinely both (a beta program, general content marketing, a survey that "
     "also collects leads, analyst relations): mark them Review. A healthy plan funds both sides.", ""),
    ("Checking the plan", "heading"),
    ("Use the Marketing Plan ribbon tab (Validate, Label stages, Build summary) or run "
     "`xlplugin check plan.xlsx` from a terminal.", ""),
]


def quarter(d: dt.date | None) -> str:
    return "" if d is None else f"Q{(d.month - 1) // 3 + 1}"


def build(out: Path = OUT, rows: list[list] | None = None) -> Path:
    """The template with `rows` (default: the sample rows; [] gives one blank row)."""
    rows = SAMPLE_ROWS if rows is None else rows
    wb = xlsxwriter.Workbook(str(out))
    wb.set_properties({"title": "Marketing plan", "author": "xlplugin", "created": BUILD_DATE,
                       "comments": "Built by templates/build_template.py"})
    wb.set_calc_mode("auto")
    fmt = {
        "text": wb.add_format({"valign": "top"}),
        "wrap": wb.add_format({"valign": "top", "text_wrap": True}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top", "align": "left"}),
        "money": wb.add_format({"num_format": "$#,##0", "valign": "top"}),
        "int": wb.add_format({"num_format": "#,##0", "valign": "top"}),
    }
    for k in ("category", "channel", "status", "stage", "quarter"):
        fmt[k] = fmt["text"]

    ws = wb.add_worksheet("Plan")
    instructions = wb.add_worksheet("Instructions")
    lists = wb.add_worksheet("Lists")

    # --- Lists sheet: the dropdown sources -----------------------------------------
    head = wb.add_format({"bold": True})
    spare = 30  # room to add values below each list
    sources = {}
    for j, (title, values) in enumerate((("Channel", CHANNELS), ("Status", STATUSES),
                                         ("Stage", STAGES), ("Category", CATEGORIES))):
        lists.write_string(0, j, title, head)
        lists.write_column(1, j, values)
        lists.set_column(j, j, 20)
        col = xlsxwriter.utility.xl_col_to_name(j)
        sources[title] = f"=Lists!${col}$2:${col}${1 + len(values) + spare}"
    lists.freeze_panes(1, 0)

    # --- Plan table ------------------------------------------------------------------
    rows = rows or [[None] * (len(COLUMNS) - 1)]    # a Table needs one data row
    n = len(rows)
    qi = HEADERS.index("Quarter")
    si = HEADERS.index("Start Date")
    q_formula = ('=IF(Plan[[#This Row],[Start Date]]="","",'
                 '"Q"&ROUNDUP(MONTH(Plan[[#This Row],[Start Date]])/3,0))')
    # An explicit header format too: LibreOffice and previews do not draw table styles.
    f_head = wb.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF",
                            "valign": "vcenter"})
    columns = []
    for header, _w, kind in COLUMNS:
        spec: dict = {"header": header, "format": fmt[kind], "header_format": f_head}
        if header == "Quarter":
            spec["formula"] = q_formula
        columns.append(spec)
    ws.add_table(0, 0, n, len(COLUMNS) - 1, {"name": "Plan", "columns": columns,
                                              "style": "Table Style Medium 2"})
    for i, row in enumerate(rows):
        values = row[:qi] + [None] + row[qi:]
        for j, v in enumerate(values):
            kind = COLUMNS[j][2]
            if j == qi:
                ws.write_formula(1 + i, j, q_formula, fmt[kind], quarter(values[si]))
            elif v is None:
                ws.write_blank(1 + i, j, None, fmt[kind])
            elif isinstance(v, dt.date):
                ws.write_datetime(1 + i, j, dt.datetime.combine(v, dt.time()), fmt[kind])
            elif isinstance(v, str):
                ws.write_string(1 + i, j, v, fmt[kind])
            else:
                ws.write_number(1 + i, j, v, fmt[kind])
    for j, (_h, width, _k) in enumerate(COLUMNS):
        ws.set_column(j, j, width)
    ws.freeze_panes(1, 2)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)

    # Dropdowns cover the table and the rows it will grow into.
    last = 1000
    for header, source, strict in (("Channel", sources["Channel"], False),
                                   ("Status", sources["Status"], True),
                                   ("Stage", sources["Stage"], True),
                                   ("Category", sources["Category"], False)):
        j = HEADERS.index(header)
        ws.data_validation(1, j, last, j, {
            "validate": "list", "source": source,
            "error_type": "stop" if strict else "warning",
            "error_title": f"{header} not in the list",
            "error_message": f"Pick a {header.lower()} from the dropdown "
                             "(the Lists sheet holds the allowed values).",
        })
    date_cols = [HEADERS.index("Start Date"), HEADERS.index("End Date")]
    for j in date_cols:
        ws.data_validation(1, j, last, j, {
            "validate": "date", "criteria": "between",
            "minimum": dt.date(2000, 1, 1), "maximum": dt.date(2100, 12, 31),
            "error_type": "warning", "error_message": "Type a date such as 2027-03-01.",
        })
    for header in ("Budget", "Actual", "Revenue"):
        j = HEADERS.index(header)
        ws.data_validation(1, j, last, j, {
            "validate": "decimal", "criteria": ">=", "value": 0, "error_type": "warning",
            "error_message": f"{header} is an amount in dollars, zero or more.",
        })
    ws.activate()

    # --- Instructions ---------------------------------------------------------------------
    styles = {
        "title": wb.add_format({"bold": True, "font_size": 16}),
        "heading": wb.add_format({"bold": True, "font_size": 12, "top": 1}),
        "": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    instructions.set_column(0, 0, 110)
    for i, (text, style) in enumerate(INSTRUCTIONS):
        instructions.write_string(i, 0, text, styles[style])
    wb.close()
    return out


if __name__ == "__main__":
    path = build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    empty = build(Path(sys.argv[2]) if len(sys.argv) > 2 else EMPTY_OUT, rows=[])
    print(f"wrote {path} and {empty}")
