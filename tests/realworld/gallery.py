"""Realistic marketing workbooks, built from code with XlsxWriter, and what xlplugin must see.

They imitate the files marketers keep, not xlplugin's template: titles, notes and KPI tiles above
the table, key/value blocks, charts, Excel Tables (stacked, or of generic columns on another
sheet), totals and section rows, two tables side by side, merged, two-row and multi-line
headers, months or dates across the columns, and headers in other languages as real exports
write them.  Each Case says what must be found: sheet, header row, kind, some columns' fields,
the number of data rows and the findings (rule and cell) that must be reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

D = dt.date


@dataclass
class Case:
    name: str
    build: Callable[[Path], None]
    sheet: str
    header_row: int
    kind: str
    fields: dict[str, str]               # header text -> field it must map to
    rows: int                            # data rows
    errors: set[tuple[str, str]] = field(default_factory=set)   # (rule, cell) that must be reported
    warnings: set[tuple[str, str]] = field(default_factory=set)
    exact_errors: bool = True            # no error beyond `errors` (no false error)
    table: str | None = None
    periods: int = 0
    runner_up: str | None = None         # sheet of the runner-up, when it matters


def _book(path: Path) -> tuple[xlsxwriter.Workbook, dict]:
    wb = xlsxwriter.Workbook(str(path))
    f = {
        "title": wb.add_format({"bold": True, "font_size": 16}),
        "sub": wb.add_format({"italic": True, "font_color": "#666666"}),
        "head": wb.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "white", "text_wrap": True,
                               "border": 1, "valign": "top"}),
        "date": wb.add_format({"num_format": "dd/mm/yyyy"}),
        "money": wb.add_format({"num_format": "$#,##0"}),
        "pct": wb.add_format({"num_format": "0.0%"}),
        "bold": wb.add_format({"bold": True}),
        "section": wb.add_format({"bold": True, "bg_color": "#DDEBF7"}),
        "tile": wb.add_format({"bold": True, "font_size": 14, "num_format": "#,##0", "border": 1}),
    }
    return wb, f


def _rows(ws, top: int, left: int, rows, f: dict) -> None:
    """Write rows at 0-based (top, left): dates as dates, None as empty."""
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(top + i, left + j, dt.datetime(v.year, v.month, v.day), f["date"])
            elif isinstance(v, str) and v.startswith("="):
                ws.write_formula(top + i, left + j, v)
            else:
                ws.write(top + i, left + j, v)


def _chart(wb, ws, sheet: str, cats: str, vals: str, at: str, kind: str = "column") -> None:
    ch = wb.add_chart({"type": kind})
    ch.add_series({"categories": f"='{sheet}'!{cats}", "values": f"='{sheet}'!{vals}", "name": "Spend"})
    ws.insert_chart(at, ch, {"x_scale": 0.8, "y_scale": 0.8})


# --- activity plans ------------------------------------------------------------------------

def plan_with_dashboard(path: Path) -> None:
    """A plan sheet under a title, KPI tiles and a key/value block, with multi-line headers,
    section rows and a totals row; a lookup sheet holds a Table of generic columns."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Marketing Plan")
    ws.write("B1", "FY2027 Marketing Plan — EMEA", f["title"])
    ws.write("B2", "Owner: Marketing Ops · last updated 12 Jan 2027", f["sub"])
    for i, (k, v) in enumerate([("Total budget", 412000), ("Activities", 9), ("Spent to date", 96500)]):
        ws.write(3, 1 + 2 * i, k, f["bold"])
        ws.write(3, 2 + 2 * i, v, f["tile"])
    ws.write("B6", "Region:", f["bold"])
    ws.write("C6", "EMEA")
    ws.write("B7", "Fiscal year:", f["bold"])
    ws.write("C7", "FY2027")
    head = ["Activity", "Channel", "Owner", "Anticipated\nStart Date", "Anticipated\nEnd Date",
            "Budget (USD)", "Actual Spend", "Status", "Notes"]
    ws.write_row(9, 1, head, f["head"])
    ws.set_row(9, 32)
    data = [
        ["Paid media", None, None, None, None, None, None, None, None],
        ["Google Search – brand terms", "Search", "Priya", D(2027, 1, 4), D(2027, 6, 30), 60000, 28000, "Live", None],
        ["LinkedIn lead-gen ads", "Social", "Tom", D(2027, 2, 1), D(2027, 4, 30), 45000, 12000, "Live", None],
        ["Retargeting display", "Display", "Tom", D(2027, 3, 1), D(2027, 2, 1), 20000, 0, "Planned",
         "dates to confirm"],
        ["Events", None, None, None, None, None, None, None, None],
        ["Trade show booth – Berlin", "Events", "Sam", D(2027, 5, 12), D(2027, 5, 14), 90000, 0, "Planned", None],
        ["Customer roundtable dinners", "Events", "Ana", D(2027, 3, 10), D(2027, 3, 31), "$1,2OO", 0, "Planned",
         None],
        ["Research", None, None, None, None, None, None, None, None],
        ["Pricing research survey", "Research", "Dana", D(2027, 1, 15), D(2027, 2, 28), 18000, 17500, "Done", None],
        ["Brand positioning workshop", "Strategy", "Dana", D(2027, 2, 1), D(2027, 2, 5), 12000, 11000, "Done",
         None],
        ["Total", None, None, None, None, "=SUM(G12:G20)", "=SUM(H12:H20)", None, None],
    ]
    _rows(ws, 10, 1, data, f)
    _chart(wb, ws, "Marketing Plan", "$B$12:$B$20", "$G$12:$G$20", "L3")
    lk = wb.add_worksheet("Lookups")
    lk.add_table("A1:D7", {"name": "Lookups", "columns": [{"header": h} for h in ("category", "group", "name", "value")],
                           "data": [["channel", "paid", "Search", 1], ["channel", "paid", "Social", 2],
                                    ["channel", "owned", "Email", 3], ["status", "", "Planned", 1],
                                    ["status", "", "Live", 2], ["status", "", "Done", 3]]})
    wb.close()


def gtm_launch_plan(path: Path) -> None:
    """A go-to-market launch plan: a key/value block above, a workstream column, audiences."""
    wb, f = _book(path)
    ws = wb.add_worksheet("GTM Plan")
    ws.write("A1", "Go-to-market plan: Nimbus 2.0", f["title"])
    for i, (k, v) in enumerate([("Product", "Nimbus 2.0"), ("Launch date", D(2027, 4, 15)),
                                ("Launch owner", "R. Osei"), ("Total budget", 180000)]):
        ws.write(2 + i, 0, k, f["bold"])
        _rows(ws, 2 + i, 1, [[v]], f)
    head = ["Workstream", "Activity", "Owner", "Start Date", "End Date", "Target Audience", "Channel",
            "Budget", "Status"]
    ws.write_row(7, 0, head, f["head"])
    data = [
        ["Insight", "Win/loss interviews with 20 buyers", "Mia", D(2027, 1, 10), D(2027, 2, 10), "IT buyers",
         "Research", 15000, "Done"],
        ["Positioning", "Messaging framework and value props", "Mia", D(2027, 2, 1), D(2027, 2, 20), "All",
         "Strategy", 8000, "Done"],
        ["Enablement", "Sales training on the new tiers", "Joe", D(2027, 3, 20), D(2027, 4, 10), "Sales reps",
         "Sales", 12000, "In progress"],
        ["Demand", "Launch webinar", "Kai", D(2027, 4, 15), D(2027, 4, 15), "Admins", "Webinar", 5000, "Planned"],
        ["Demand", "Paid social launch burst", "Kai", D(2027, 4, 15), D(2027, 5, 31), "IT managers", "Social",
         60000, "Planned"],
        ["Demand", "Search campaign on category terms", "Kai", D(2027, 4, 15), D(2027, 6, 30), "IT managers",
         "Search", 80000, "Planned"],
    ]
    _rows(ws, 8, 0, data, f)
    wb.close()


def generic_table_and_plan_sheet(path: Path) -> None:
    """An Excel Table of generic columns on the first sheet; the plan on a sheet named so."""
    wb, f = _book(path)
    data = wb.add_worksheet("Data")
    data.add_table("B2:E12", {"name": "Table1", "columns": [{"header": h} for h in ("category", "group", "name", "value")],
                              "data": [[f"cat{i % 3}", f"g{i % 2}", f"item {i}", i * 10] for i in range(10)]})
    ws = wb.add_worksheet("Marketing Plan")
    ws.write("A1", "Plan 2027", f["title"])
    ws.write_row(2, 0, ["Tactic", "Channel", "Launch", "Finish", "Budget"], f["head"])
    _rows(ws, 3, 0, [["Webinar series", "Webinar", D(2027, 2, 1), D(2027, 6, 1), 9000],
                     ["Partner newsletter", "Email", D(2027, 3, 1), D(2027, 3, 31), 1500],
                     ["Analyst briefing", "PR", D(2027, 4, 1), D(2027, 4, 2), 4000]], f)
    wb.close()


def project_planner(path: Path) -> None:
    """A campaign project planner as a Table with a totals row, on a sheet named 'Planner'."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Planner")
    ws.write("A1", "Spring campaign – project planner", f["title"])
    rows = [["Brief agency", "Lea", D(2027, 1, 5), D(2027, 1, 9), 0, "Done"],
            ["Creative concepts", "Agency", D(2027, 1, 12), D(2027, 1, 30), 25000, "Done"],
            ["Media buying", "Lea", D(2027, 2, 1), D(2027, 2, 14), 120000, "In progress"],
            ["Landing page build", "Web team", D(2027, 2, 1), D(2027, 2, 20), 8000, "In progress"],
            ["Go live", "Lea", D(2027, 3, 1), D(2027, 3, 1), 0, "Planned"]]
    ws.add_table("A3:F9", {"name": "Tasks", "total_row": True,
                           "columns": [{"header": "Task", "total_string": "Total"}, {"header": "Assigned To"},
                                       {"header": "Start"}, {"header": "Due"},
                                       {"header": "Cost", "total_function": "sum"}, {"header": "Status"}]})
    _rows(ws, 3, 0, rows, f)
    wb.close()


# --- budgets -------------------------------------------------------------------------------

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def budget_by_month(path: Path) -> None:
    """Categories down, months across, section headings, subtotals, an OVERALL row, a chart."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Budget 2027")
    ws.write("A1", "Marketing budget 2027 (USD)", f["title"])
    ws.write("A2", "All figures planned; actuals in the finance system.", f["sub"])
    ws.write_row(3, 0, ["Category", *MONTHS, "Total"], f["head"])
    lines = [("Paid media", None), ("Search", 5000), ("Paid social", 4000), ("Display", 1500),
             ("Paid media total", "sum"), ("Events & field", None), ("Trade shows", 0), ("Webinars", 800),
             ("Events & field total", "sum"), ("OVERALL", "sum")]
    r = 4
    for name, base in lines:
        if base is None:
            ws.write(r, 0, name, f["section"])
        elif base == "sum":
            ws.write(r, 0, name, f["bold"])
            for j in range(13):
                ws.write_formula(r, 1 + j, "=0", f["money"], 0)
        else:
            vals = [base + 100 * m for m in range(12)]
            if name == "Trade shows":
                vals = [0, 0, 0, 0, 45000, 0, 0, 0, 38000, 0, 0, 0]
            if name == "Display":
                vals[6] = -300          # a refund typed as a negative budget
            if name == "Webinars":
                vals[2] = "1,500"       # typed as text
            for j, v in enumerate(vals):
                ws.write(r, 1 + j, v, f["money"])
            ws.write_formula(r, 13, f"=SUM(B{r + 1}:M{r + 1})", f["money"])
        r += 1
    _chart(wb, ws, "Budget 2027", "$B$4:$M$4", "$B$6:$M$6", "B17", "line")
    wb.close()


def budget_line_items_table(path: Path) -> None:
    """Line items as an Excel Table with a totals row: budgeted, actual, variance; no dates."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Budget")
    ws.write("A1", "Q2 marketing budget", f["title"])
    data = [["Digital", "Google Ads", 30000, 28500], ["Digital", "Meta Ads", 20000, 21500],
            ["Content", "Video production", 15000, 9000], ["Content", "Freelance writers", 6000, 6400],
            ["PR", "Agency retainer", 12000, 12000]]
    ws.add_table("A3:E9", {"name": "Q2Budget", "total_row": True,
                           "columns": [{"header": "Expense Category", "total_string": "Total"},
                                       {"header": "Line Item"},
                                       {"header": "Budgeted", "total_function": "sum"},
                                       {"header": "Actual", "total_function": "sum"},
                                       {"header": "Variance", "total_function": "sum"}],
                           "data": data})
    for i, (_cat, _item, budgeted, actual) in enumerate(data):   # formulas with their cached values
        ws.write_formula(3 + i, 4, f"=D{4 + i}-C{4 + i}", f["money"], actual - budgeted)
    wb.close()


def stacked_budget_tables(path: Path) -> None:
    """An instructions sheet, then nine stacked Tables on one sheet (one per budget area)."""
    wb, f = _book(path)
    ins = wb.add_worksheet("Instructions")
    for i, line in enumerate(["How to use this budget template", "1. Enter each expense on its area's table.",
                              "2. Item, Estimated and Actual are required.", "3. Do not edit the totals."]):
        ins.write(i, 0, line)
    ws = wb.add_worksheet("Budget Detail")
    ws.write("A1", "Annual marketing budget by area", f["title"])
    areas = ["Advertising", "Events", "Content", "PR", "Web", "Research", "Sponsorship", "Print", "Misc"]
    r = 2
    for k, area in enumerate(areas):
        n = 8 if area == "Advertising" else 3
        ws.write(r, 0, area, f["bold"])
        data = [[f"{area} item {i + 1}", 1000 * (i + 1), 900 * (i + 1)] for i in range(n)]
        ws.add_table(r + 1, 0, r + 1 + n, 2, {"name": f"T_{area}",
                                                "columns": [{"header": "Item"}, {"header": "Estimated"},
                                                            {"header": "Actual"}], "data": data})
        r += n + 4
        assert k >= 0
    wb.close()


def event_budget_side_by_side(path: Path) -> None:
    """Expenses and income side by side, a 5-row sub-table below the income."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Event Budget")
    ws.write("A1", "Partner summit – event budget", f["title"])
    ws.write_row(2, 0, ["Expense Item", "Estimated", "Actual"], f["head"])
    exp = [["Venue hire", 12000, 12500], ["Catering", 8000, 8600], ["AV & staging", 5000, 4700],
           ["Speakers", 6000, 6000], ["Travel", 4000, 5200], ["Swag", 2500, 2300], ["Signage", 1200, 1100],
           ["Photography", 900, 900], ["Event app", 1500, 1500], ["Contingency", 2000, 0]]
    _rows(ws, 3, 0, exp, f)
    ws.write_row(2, 4, ["Income Item", "Estimated", "Actual"], f["head"])
    _rows(ws, 3, 4, [["Sponsorships", 20000, 18000], ["Tickets", 9000, 9500], ["Partner fees", 4000, 4000]], f)
    ws.write_row(13, 4, ["Ticket type", "Price", "Sold"], f["head"])
    _rows(ws, 14, 4, [["Early bird", 99, 40], ["Standard", 149, 30], ["VIP", 399, 5], ["Student", 29, 12],
                      ["Group", 89, 10]], f)
    wb.close()


def event_budget_template_tables(path: Path) -> None:
    """An event budget template: expense Tables side by side (Site beside Refreshments) and below
    them a Table still blank (Program: five empty rows waiting to be filled in)."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Expenses")
    ws.write("A1", "Event budget", f["title"])
    ws.write("A3", "Total expenses", f["bold"])
    ws.write_formula("B3", "=SUM(C8:C12,G8:G11)")

    def table(row: int, col: int, name: str, head: str, data: list[list], blank: int = 0) -> None:
        rows = data + [[None, None, None]] * blank
        ws.add_table(row, col, row + len(rows), col + 2,
                     {"name": name, "data": rows, "columns": [{"header": head}, {"header": "Estimated"},
                                                               {"header": "Actual"}]})

    table(6, 0, "SiteExpenses", "Site", [["Room and hall fees", 4000, 4200], ["Site staff", 1200, 1100],
                                         ["Equipment", 800, 950], ["Tables and chairs", 300, 300],
                                         ["Security", 500, 450]])
    table(6, 4, "RefreshmentExpenses", "Refreshments", [["Food", 2500, 2650], ["Drinks", 900, 870],
                                                        ["Linens", 150, 150], ["Staff and gratuities", 400, 420]])
    table(13, 0, "ProgramExpenses", "Program", [], blank=5)
    wb.close()


def budget_by_team_quarters(path: Path) -> None:
    """Teams down, quarters across (no header over the team column)."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Team budgets")
    ws.write("A1", "Budget by team, FY27", f["title"])
    ws.write_row(2, 0, ["Team", "Q1 2027", "Q2 2027", "Q3 2027", "Q4 2027", "FY Total"], f["head"])
    _rows(ws, 3, 0, [["Brand", 40000, 35000, 30000, 45000, "=SUM(B4:E4)"],
                     ["Demand gen", 80000, 90000, 85000, 95000, "=SUM(B5:E5)"],
                     ["Product marketing", 20000, 25000, 15000, 20000, "=SUM(B6:E6)"],
                     ["Total", "=SUM(B4:B6)", "=SUM(C4:C6)", "=SUM(D4:D6)", "=SUM(E4:E6)", "=SUM(F4:F6)"]], f)
    wb.close()


def daily_ad_budget(path: Path) -> None:
    """A daily ad-budget tracker: channels down, real dates across the columns."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Daily Budget")
    ws.write("A1", "March ad budget tracker", f["title"])
    ws.write("A3", "Channel", f["head"])
    days = [D(2027, 3, 1) + dt.timedelta(days=i) for i in range(14)]
    for j, d in enumerate(days):
        ws.write_datetime(2, 1 + j, dt.datetime(d.year, d.month, d.day), f["date"])
    _rows(ws, 3, 0, [["Google Ads", *[300] * 14], ["Meta", *[200] * 14], ["TikTok", *[150] * 13, "tbd"]], f)
    wb.close()


# --- performance logs ------------------------------------------------------------------------

def campaign_performance(path: Path) -> None:
    """A campaign results log with underscores in headers (a BI export), a date range above."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Campaign Results")
    ws.write("A1", "Campaign performance, Q1 2027", f["title"])
    ws.write("A2", "Source: ads platforms export, 2027-01-01 to 2027-03-31", f["sub"])
    ws.write_row(3, 0, ["Campaign_Name", "Channel", "Ad_Spend", "Impressions", "Clicks", "Conversions",
                        "Revenue", "Conversion_Rate", "ROAS"], f["head"])
    data = [["Brand search", "Search", 12000, 300000, 15000, 900, 54000, 0.06, 4.5],
            ["Competitor search", "Search", 8000, 150000, 6000, 240, 19200, 0.04, 2.4],
            ["Prospecting video", "YouTube", 15000, 2000000, 8000, 160, 9600, 0.02, 0.64],
            ["Lookalike audiences", "Meta", 10000, 900000, 950000, 300, 21000, 0.0003, 2.1],
            ["Newsletter sponsorship", "Email", 3000, 80000, 2400, 120, 7200, 0.05, 2.4]]
    _rows(ws, 4, 0, data, f)
    wb.close()


def campaign_dataset(path: Path) -> None:
    """A public campaign dataset: dates per campaign, rates and returns, and a column of audience
    words whose header holds a conversions word ('Customer Demographics')."""
    _simple("Marketing Data", ["Campaign Name", "Start", "End", "Channel", "CTR", "Conversion Rate", "ROI",
                               "Customer Demographics", "Location"],
            [["Spring Sale", D(2027, 3, 1), D(2027, 3, 31), "Email", 0.031, 0.052, 1.8, "Young Adults", "Leeds"],
             ["Brand Push", D(2027, 4, 1), D(2027, 5, 15), "Social", 0.012, 0.009, 0.4, "Seniors", "York"],
             ["Back to School", D(2027, 8, 1), D(2027, 9, 10), "Search", 0.044, 0.061, 2.6, "Parents", "Hull"],
             ["Summer Deals", D(2027, 6, 1), D(2027, 6, 30), "Display", 0.008, 0.011, 0.7, "Young Adults",
              "Bath"]])(path)


def daily_social_metrics(path: Path) -> None:
    """One row per day and platform: the date names the row."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Daily")
    ws.write_row(0, 0, ["Date", "Platform", "Impressions", "Reach", "Engagements", "Link Clicks"], f["head"])
    rows = []
    for i in range(10):
        for p, k in (("Instagram", 1.0), ("LinkedIn", 0.4)):
            rows.append([D(2027, 2, 1) + dt.timedelta(days=i), p, int(5000 * k + 100 * i), int(3000 * k + 50 * i),
                         int(400 * k + 7 * i), int(90 * k + i)])
    _rows(ws, 1, 0, rows, f)
    wb.close()


def facebook_ads_vi(path: Path) -> None:
    """A Facebook Ads Manager export in Vietnamese, as the export writes it."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Raw Data Report")
    head = ["Tên chiến dịch", "Trạng thái phân phối", "Bắt đầu báo cáo", "Kết thúc báo cáo", "Kết quả",
            "Chỉ báo kết quả", "Người tiếp cận", "Lượt hiển thị", "Chi phí trên mỗi kết quả",
            "Số tiền đã chi tiêu (VND)", "Lượt nhấp vào liên kết", "CTR (tỷ lệ nhấp vào liên kết)",
            "CPC (chi phí trên mỗi lượt nhấp vào liên kết) (VND)"]
    ws.write_row(0, 0, head)
    data = [["Tết Sale 2027 - Chuyển đổi", "active", "2027-01-01", "2027-01-31", 320, "actions:purchase",
             150000, 410000, 46875, 15000000, 5200, 1.27, 2884],
            ["Ra mắt sản phẩm - Nhận diện", "inactive", "2027-01-01", "2027-01-31", 98000, "reach", 98000,
             260000, 61, 6000000, 1900, 0.73, 3157],
            ["Remarketing khách cũ", "active", "2027-01-01", "2027-01-31", 140, "actions:purchase", 22000,
             90000, 28571, 4000000, 1300, 1.44, 3076]]
    _rows(ws, 1, 0, data, f)
    wb.close()


def seo_keywords(path: Path) -> None:
    wb, f = _book(path)
    ws = wb.add_worksheet("Keywords")
    ws.write_row(0, 0, ["Keyword", "Search Volume", "Keyword Difficulty", "CPC", "Position", "URL"], f["head"])
    _rows(ws, 1, 0, [["marketing plan template", 12100, 45, 3.2, 8, "/templates/plan"],
                     ["marketing budget template", 5400, 38, 4.1, 12, "/templates/budget"],
                     ["content calendar", 9900, 52, 2.7, 15, "/blog/content-calendar"]], f)
    wb.close()


# --- content calendars -----------------------------------------------------------------------

def content_calendar(path: Path) -> None:
    wb, f = _book(path)
    ws = wb.add_worksheet("Content Calendar")
    ws.write("A1", "Social content calendar — March", f["title"])
    ws.write_row(2, 0, ["Publish Date", "Platform", "Post Title", "Caption", "Format", "Status", "Owner"],
                 f["head"])
    data = [[D(2027, 3, 1), "Instagram", "Spring collection teaser", "Something new is blooming 🌸", "Reel",
             "Scheduled", "Zoe"],
            [D(2027, 3, 3), "LinkedIn", "Customer story: Acme", "How Acme cut costs by 30%", "Carousel", "Draft",
             "Ben"],
            [None, "TikTok", "Behind the scenes", "A day at the studio", "Video", "Idea", "Zoe"],
            [D(2027, 3, 8), "Blog", "Spring trends guide", "Our 10 trends for spring", "Article", "In review",
             "Ben"]]
    _rows(ws, 3, 0, data, f)
    wb.close()


def weekday_grid_calendar(path: Path) -> None:
    """A month as a weekday grid: a row of day numbers, then the posts under each day."""
    wb, f = _book(path)
    ws = wb.add_worksheet("March")
    ws.write("A1", "Content calendar – March 2027", f["title"])
    ws.write_row(2, 0, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"], f["head"])
    posts = {1: "IG: spring teaser", 3: "Blog: trends guide", 5: "LinkedIn: case study", 9: "Newsletter #12",
             12: "TikTok: behind the scenes", 17: "IG: St Patrick's promo", 22: "Webinar invite",
             26: "IG: giveaway", 30: "Blog: Q1 recap"}
    r = 3
    for week in range(5):
        days = [1 + 7 * week + i for i in range(7)]
        ws.write_row(r, 0, [d if d <= 31 else None for d in days], f["bold"])
        ws.write_row(r + 1, 0, [posts.get(d) for d in days])
        r += 2
    wb.close()


def newsletter_calendar(path: Path) -> None:
    wb, f = _book(path)
    ws = wb.add_worksheet("Newsletter")
    ws.write_row(0, 0, ["Send Date", "Subject Line", "Segment", "Owner", "Status"], f["head"])
    _rows(ws, 1, 0, [[D(2027, 1, 7), "Your January product digest", "All customers", "Nia", "Sent"],
                     [D(2027, 1, 21), "Webinar invite: planning 2027", "Prospects", "Nia", "Scheduled"],
                     [D(2027, 2, 4), "February digest", "All customers", "Nia", "Draft"]], f)
    wb.close()


def social_schedule_es(path: Path) -> None:
    """A Spanish social post schedule."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Calendario")
    ws.write("A1", "Calendario de publicaciones – abril", f["title"])
    ws.write_row(2, 0, ["Fecha de publicación", "Red social", "Tema", "Texto", "Formato", "Estado", "Responsable"],
                 f["head"])
    _rows(ws, 3, 0, [[D(2027, 4, 1), "Instagram", "Lanzamiento primavera", "¡Ya llegó la primavera!", "Reel",
                      "Programado", "Lucía"],
                     [D(2027, 4, 3), "Facebook", "Sorteo", "Participa y gana", "Imagen", "Borrador", "Pablo"]], f)
    wb.close()


# --- media plans -----------------------------------------------------------------------------

def tv_media_plan(path: Path) -> None:
    """A TV media plan with a two-row header (Flight over Start | End) merged across."""
    wb, f = _book(path)
    ws = wb.add_worksheet("TV Plan")
    ws.write("A1", "TV media plan — spring burst", f["title"])
    for c, h in enumerate(["Station", "Programme", "Daypart", "Spots"]):
        ws.merge_range(2, c, 3, c, h, f["head"])
    ws.merge_range(2, 4, 2, 5, "Flight", f["head"])
    ws.write(3, 4, "Start", f["head"])
    ws.write(3, 5, "End", f["head"])
    ws.merge_range(2, 6, 3, 6, "Net Cost", f["head"])
    ws.merge_range(2, 7, 3, 7, "Target Audience", f["head"])
    ws.merge_range(2, 8, 3, 8, "TARPs", f["head"])
    data = [["Channel 4", "Evening News", "Peak", 12, D(2027, 3, 1), D(2027, 3, 14), 84000, "Adults 25-54", 120],
            ["ITV", "Morning Show", "Breakfast", 20, D(2027, 3, 1), D(2027, 3, 21), 56000, "Housewives", 90],
            ["Sky One", "Sunday Movie", "Weekend", 6, D(2027, 3, 7), D(2027, 3, 28), 30000, "Adults 16-34", 45]]
    _rows(ws, 4, 0, data, f)
    wb.close()


def recruitment_media_plan(path: Path) -> None:
    wb, f = _book(path)
    ws = wb.add_worksheet("Media Plan")
    ws.write("A1", "Graduate recruitment 2027 – media plan", f["title"])
    ws.write_row(2, 0, ["Vehicle", "Placement", "Ad Size", "Audience", "Insertions", "Start Date", "End Date",
                        "Net Cost"], f["head"])
    _rows(ws, 3, 0, [["Campus Times", "Careers page", "Half page", "Final-year students", 4, D(2027, 9, 1),
                      D(2027, 10, 31), 6400],
                     ["Indeed", "Sponsored jobs", "Listing", "Graduates", 1, D(2027, 9, 1), D(2027, 12, 31), 9000],
                     ["LinkedIn", "Sponsored content", "Single image", "Graduates UK", 1, D(2027, 9, 15),
                      D(2027, 11, 15), -1200]], f)
    wb.close()


def media_plan_ru(path: Path) -> None:
    """A Russian agency media plan: client, brand and period as a key/value block, the header at
    row 9 (Площадка, Размещение, Таргетинг ...; unit cost and money with currency and VAT in
    the header), a total row (Итого) and a note under it."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Медиаплан")
    ws.write("A1", "Медиаплан: весенняя кампания 2027", f["title"])
    for r, (k, v) in enumerate([("Клиент:", "ООО «Ромашка»"), ("Бренд:", "Ромашка Чай"),
                                ("Период кампании:", "01.03.2027 – 31.05.2027"), ("Валюта:", "руб."),
                                ("Агентство:", "Медиа Плюс")], start=2):
        ws.write(r, 0, k, f["bold"])
        ws.write(r, 1, v)
    ws.write_row(8, 0, ["№", "Площадка", "Размещение", "Формат", "Таргетинг", "Период размещения",
                        "Модель закупки", "Кол-во", "Стоимость за единицу, руб.", "Бюджет без НДС, руб.",
                        "Прогноз показов", "Прогноз кликов", "CTR, %", "Комментарий"], f["head"])
    _rows(ws, 9, 0, [
        [1, "Яндекс Директ", "Поиск", "Текстово-графическое объявление", "Ж 25-45, Москва", "март–май",
         "CPC", 12000, 35, "=H10*I10", None, 12000, 0.04, "брендовые запросы"],
        [2, "VK Реклама", "Лента", "Карусель", "Ж 25-45, РФ", "март–апрель", "CPM", 1500, 180, "=H11*I11 / 1",
         1500000, 9000, 0.006, None],
        [3, "Ozon", "Баннер на главной", "Баннер 1200x300", "Покупатели чая", "май", "Фикс", 1, 450000,
         "=H12*I12", 2500000, 7500, 0.003, "пакет «Весна»"],
        [4, "Telegram Ads", "Каналы о еде", "Текст 160 знаков", "Интересы: кулинария", "март–май", "CPM", 800,
         250, "=H13*I13", 800000, 2400, 0.003, None],
        ["Итого", None, None, None, None, None, None, None, None, "=SUM(J10:J13)", "=SUM(K10:K13)",
         "=SUM(L10:L13)", None, None],
    ], f)
    ws.write(15, 0, "Стоимость указана без НДС и агентской комиссии.", f["sub"])
    wb.close()


def amazon_ads_daily_zh(path: Path) -> None:
    """A Chinese ad platform's daily export: dates as yyyymmdd numbers (20270301), a total row
    (总计) right under the header, then one row per day and campaign."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, ["广告日期", "广告活动名称", "展示量", "点击量", "花费", "销售额"])
    ws.write_row(1, 0, ["总计", None, 2_250_000, 27_000, 13_500, 54_000])
    days = [20270301, 20270302, 20270303]
    rows = [[d, name, imp, clk, cost, sales] for d in days
            for name, imp, clk, cost, sales in (("春季新品-自动投放", 500_000, 6_000, 3_000, 12_000),
                                                ("品牌词-手动投放", 250_000, 3_000, 1_500, 6_000))]
    _rows(ws, 2, 0, rows, f)
    wb.close()


# --- plans in other languages -----------------------------------------------------------------

def _simple(sheet: str, head: list[str], rows: list[list], title: str | None = None) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        wb, f = _book(path)
        ws = wb.add_worksheet(sheet)
        top = 0
        if title:
            ws.write("A1", title, f["title"])
            top = 2
        ws.write_row(top, 0, head, f["head"])
        _rows(ws, top + 1, 0, rows, f)
        wb.close()
    return build


plan_pt = _simple("Plano de Marketing", ["Atividade", "Canal", "Responsável", "Data de início", "Data de término",
                                         "Orçamento (R$)", "Realizado"],
                  [["Pesquisa de mercado", "Pesquisa", "Ana", D(2027, 1, 10), D(2027, 2, 10), 20000, 18000],
                   ["Campanha Google Ads", "Busca", "Rui", D(2027, 3, 1), D(2027, 5, 31), 45000, 12000]],
                  "Plano de marketing 2027")
plan_fr = _simple("Plan d'actions", ["Action", "Canal", "Responsable", "Date de début", "Date de fin",
                                     "Budget prévu", "Dépenses réelles"],
                  [["Salon professionnel", "Événements", "Claire", D(2027, 5, 2), D(2027, 5, 4), 30000, 31000],
                   ["Campagne d'e-mailing", "E-mail", "Hugo", D(2027, 2, 1), D(2027, 1, 15), 4000, 3500]])
plan_de = _simple("Marketingplan", ["Maßnahme", "Kanal", "Verantwortlich", "Startdatum", "Enddatum", "Budget (€)",
                                    "Ist-Kosten"],
                  [["Messeauftritt Hannover", "Messe", "Jonas", D(2027, 4, 20), D(2027, 4, 24), 60000, 0],
                   ["Suchmaschinenwerbung", "Suche", "Lena", D(2027, 1, 1), D(2027, 12, 31), 36000, 9000]])
budget_it = _simple("Budget", ["Voce di spesa", "Categoria", "Preventivo", "Consuntivo"],
                    [["Fiera di Milano", "Eventi", 25000, 27000], ["Google Ads", "Digitale", 18000, 16500],
                     ["Stampa brochure", "Stampa", 3000, 2800]], "Budget marketing 2027")
performance_nl = _simple("Resultaten", ["Campagnenaam", "Vertoningen", "Klikken", "Conversies", "Besteed bedrag (EUR)"],
                         [["Voorjaarsactie", 120000, 3400, 120, 2500], ["Merkcampagne", 400000, 5200, 60, 6000]])
plan_ja = _simple("施策計画", ["施策名", "媒体", "担当者", "開始日", "終了日", "予算（円）", "実績"],
                  [["展示会出展", "イベント", "佐藤", D(2027, 6, 1), D(2027, 6, 3), 3000000, 0],
                   ["リスティング広告", "検索", "鈴木", D(2027, 4, 1), D(2027, 9, 30), 1800000, 400000]])
plan_zh = _simple("营销计划", ["活动名称", "渠道", "负责人", "开始日期", "结束日期", "预算", "实际花费"],
                  [["行业展会", "展会", "王伟", D(2027, 5, 10), D(2027, 5, 12), 200000, 0],
                   ["搜索广告", "搜索", "李娜", D(2027, 3, 1), D(2027, 8, 31), 150000, 40000]])


def channel_report_no_label_header(path: Path) -> None:
    """A channel report pasted from a pivot: the row-label column has no header, a Grand Total."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Report")
    ws.write("A1", "Spend and results by channel, February", f["title"])
    ws.write_row(2, 1, ["Spend", "Impressions", "Clicks", "Conversions"], f["head"])
    _rows(ws, 3, 0, [["Search", 9000, 120000, 5400, 300], ["Social", 7000, 800000, 6100, 120],
                     ["Display", 3000, 1500000, 2100, 30], ["Grand Total", 19000, 2420000, 13600, 450]], f)
    wb.close()


def budget_es_months(path: Path) -> None:
    """A Spanish budget: concepts down, months across (in Spanish), a total column."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Presupuesto")
    ws.write("A1", "Presupuesto de marketing 2027", f["title"])
    ws.write_row(2, 0, ["Concepto", "Enero", "Febrero", "Marzo", "Abril", "Total"], f["head"])
    _rows(ws, 3, 0, [["Publicidad en buscadores", 3000, 3000, 3500, 3500, "=SUM(B4:E4)"],
                     ["Redes sociales", 2000, 2500, 2500, 3000, "=SUM(B5:E5)"],
                     ["Ferias", 0, 12000, 0, 0, "=SUM(B6:E6)"],
                     ["Total general", "=SUM(B4:B6)", "=SUM(C4:C6)", "=SUM(D4:D6)", "=SUM(E4:E6)", "=SUM(F4:F6)"]], f)
    wb.close()


def budget_ru_months(path: Path) -> None:
    """A Russian budget: cost lines down, months across (in Russian), a total column and a total row."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Бюджет")
    ws.write("A1", "Бюджет маркетинга на I квартал 2027, тыс. руб.", f["title"])
    ws.write_row(2, 0, ["Статья расходов", "Январь", "Февраль", "Март", "Итого"], f["head"])
    _rows(ws, 3, 0, [["Контекстная реклама", 300, 300, 350, "=SUM(B4:D4)"],
                     ["Таргетированная реклама", 200, 250, 250, "=SUM(B5:D5)"],
                     ["Выставки", 0, 1200, 0, "=SUM(B6:D6)"],
                     ["Итого", "=SUM(B4:B6)", "=SUM(C4:C6)", "=SUM(D4:D6)", "=SUM(E4:E6)"]], f)
    wb.close()


def company_budget_sheets(path: Path) -> None:
    """A company budget: a summary sheet named like a plan ('BUDGET TOTALS' over Income / Expenses),
    then one sheet per category whose first column is headed with the category ('OPERATING
    EXPENSES') over the line items, beside Estimated | Actual | Difference."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Monthly Budget Summary")
    ws.write("A1", "COMPANY NAME", f["title"])
    ws.write_row(3, 1, ["BUDGET TOTALS", "ESTIMATED", "ACTUAL", "DIFFERENCE"], f["head"])
    _rows(ws, 4, 1, [["Income", 63300, 57450, "=D5-C5"], ["Expenses", 12300, 11575, "=C6-D6"],
                     ["Balance (Income minus Expenses)", "=C5-C6", "=D5-D6", "=D7-C7"]], f)
    for sheet, head, lines in (
            ("Income", "INCOME", [["Net sales", 60000, 54000], ["Interest income", 3000, 3000],
                                  ["Asset sales (gain/loss)", 300, 450]]),
            ("Operating Expenses", "OPERATING EXPENSES",
             [["Advertising", 3000, 2500], ["Trade shows", 2000, 2200], ["Printing", 500, 475],
              ["Website hosting", 300, 300], ["Travel", 1500, 1100], ["Events", 5000, 5000]])):
        ws = wb.add_worksheet(sheet)
        ws.write("A1", "MONTHLY BUDGET", f["title"])
        ws.write_row(3, 1, [head, "ESTIMATED", "ACTUAL", "DIFFERENCE"], f["head"])
        _rows(ws, 4, 1, [[name, est, act, f"=C{5 + i}-D{5 + i}"] for i, (name, est, act) in enumerate(lines)], f)
    wb.close()


def posting_days_grid(path: Path) -> None:
    """A month of posts on four posting days only (MONDAY | WEDNESDAY | FRIDAY | SUNDAY across),
    each cell 'day. post topic', with a notes cell beside the grid."""
    wb, f = _book(path)
    ws = wb.add_worksheet("JUNE")
    ws.write_row(0, 0, ["MONDAY", "WEDNESDAY", "FRIDAY", "SUNDAY"], f["head"])
    ws.write(1, 0, "1st of June is a Sunday")
    _rows(ws, 2, 0, [["5. Declare with me", "7. Weekly encouragement", "9. Faith Friday", "11. Sunday teaching",
                      "NOTES: hashtags #weekly #community"],
                     ["12. Declare with me", "14. Weekly encouragement", "16. Faith Friday", "18. Sunday teaching"],
                     ["19. Declare with me", "21. Weekly encouragement", "23. Faith Friday", "25. Sunday teaching"]], f)
    wb.close()


def month_grid_then_posts(path: Path) -> None:
    """A month grid (SUN .. SAT, day numbers and post names), then, under two blank rows, the post
    table whose every row merges A:B and C:D like its header; platform-named columns
    ('Insta/Facebook Caption', 'Posted for Instagram', 'Instagram Reach')."""
    wb, f = _book(path)
    ws = wb.add_worksheet("May")
    ws.write("A1", "May 2027", f["title"])
    ws.write_row(1, 0, ["SUN", "MON", "TUES", "WED", "THURS", "FRI", "SAT"], f["head"])
    ws.write_row(2, 4, [1, 2, 3])
    ws.write_row(3, 4, ["FAQ Post", "FAQ Post"])
    ws.write_row(4, 0, [4, 5, 6, 7, 8, 9, 10])
    ws.write_row(5, 1, ["Client Post", "", "Client Post"])
    head = ["Date and Optimal Posting Times", None, "Post Type", None, "Insta/Facebook Caption", "LinkedIn Caption",
            "Posted for Instagram", "Instagram Reach", "Facebook Engagement (%)", "LinkedIn Clicks"]
    posts = [[dt.datetime(2027, 5, 5), "FAQ Post", "Welcome! Here are the questions we hear most.",
              "Curious about how we work? Read on.", "Yes", 420, 0.031, 12],
             [dt.datetime(2027, 5, 12), "Client Post", "Meet our client, a local bakery.",
              "A client story from our team.", "Yes", 515, 0.027, 9],
             [dt.datetime(2027, 5, 19), "Spotlight Post", "Student spotlight of the month.",
              "This month's student spotlight.", "No", None, None, None]]
    ws.merge_range(8, 0, 8, 1, head[0], f["head"])
    ws.merge_range(8, 2, 8, 3, head[2], f["head"])
    ws.write_row(8, 4, head[4:], f["head"])
    for i, (when, kind, caption, linkedin, posted, reach, eng, clicks) in enumerate(posts):
        r = 9 + i
        ws.merge_range(r, 0, r, 1, "")
        ws.write_datetime(r, 0, when, f["date"])
        ws.merge_range(r, 2, r, 3, kind)
        _rows(ws, r, 4, [[caption, linkedin, posted, reach, eng, clicks]], f)
    wb.close()


def agency_media_plan_en(path: Path) -> None:
    """An agency media plan in English under a logo block: placements with targeting, frequency
    and forecast delivery (reach, impressions, CPM, CTR, CPC, clicks): a plan, not a results log."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Plan_Media")
    ws.write("B2", "Client: Example Bank", f["bold"])
    ws.write("B3", "Campaign: Savings account, Q3", f["bold"])
    ws.write_row(5, 1, ["Source", "Placement", "Targeting", "Frequency", "Reach", "Impressions", "CPM",
                        "CTR, %", "CPC", "Clicks"], f["head"])
    _rows(ws, 6, 1, [["Video network", "Pre-roll 15s", "25-45, interest: finance", 3, 400000, 1200000, 120,
                      0.004, 30, 4800],
                     ["Display network", "Banner 300x250", "25-55, in-market: banking", 4, 500000, 2000000, 80,
                      0.002, 40, 4000],
                     ["Social", "Feed ads", "Lookalike of customers", 5, 300000, 1500000, 100, 0.006, 16.7, 9000]], f)
    wb.close()


def dax_export(path: Path) -> None:
    """A Power BI drill-through export: a title row, then a query Table whose columns are named
    table[column] ('data[Campaign]', 'data[Spend, GBP]')."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Export")
    ws.write("A1", "Data returned for Spend, GBP (first 1000 rows).")
    head = ["data[Campaign]", "data[Date]", "data[Channel]", "data[Impressions]", "data[Clicks]",
            "data[Spend, GBP]", "data[Conversions]"]
    rows = [["Spring sale", D(2027, 3, 1), "Facebook", 12000, 240, 180.5, 12],
            ["Spring sale", D(2027, 3, 2), "Instagram", 9000, 150, 120.0, 7],
            ["Brand search", D(2027, 3, 1), "Pinterest", 4000, 60, 45.25, 2]]
    ws.add_table(2, 0, 2 + len(rows), len(head) - 1,
                 {"name": "Table_ExternalData_1", "columns": [{"header": h} for h in head],
                  "data": [[dt.datetime(v.year, v.month, v.day) if isinstance(v, dt.date) else v for v in r]
                           for r in rows]})
    wb.close()


def budget_uk(path: Path) -> None:
    """A Ukrainian channel budget: 'Канали промоції' down, Ціна | К-сть | Сума, грн across, a section row."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Бюджет")
    ws.write_row(0, 0, ["Канали промоції", "Ціна", "К-сть", "Сума, грн"], f["head"])
    _rows(ws, 1, 0, [["Соціальні мережі"], ["Instagram", 2000, 3, "=B3*C3"], ["Facebook", 1500, 2, "=B4*C4"],
                     ["Контекстна реклама", 8000, 1, "=B5*C5"], ["Виставки", 20000, 1, "=B6*C6"]], f)
    wb.close()


def no_plan_leads(path: Path) -> None:
    """A lead list: each row a lead (Lead_ID first) with its date, campaign, channel and status."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Leads")
    ws.write_row(0, 0, ["Lead_ID", "Date", "Campaign_ID", "Channel", "Status", "Score"])
    _rows(ws, 1, 0, [["L0001", D(2027, 2, 3), "CMP11", "Google Ads", "Converted", 43],
                     ["L0002", D(2027, 2, 4), "CMP12", "Instagram", "New", 61],
                     ["L0003", D(2027, 2, 5), "CMP11", "Email", "Lost", 12]], f)
    wb.close()


def no_plan_client_crm(path: Path) -> None:
    """A freelancer's client sheet under a title: Client Name, Platform, contract dates, notes."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Clients")
    ws.write("A1", "Client Contact & CRM", f["title"])
    ws.write_row(3, 0, ["Client Name", "Company", "Platform", "Contact Email", "Hourly Rate ($)", "Contract Start",
                        "Contract End", "Notes"], f["head"])
    _rows(ws, 4, 0, [["Jane Smith", "Acme", "Upwork", "jane@acme.test", 15, D(2027, 1, 1), "Ongoing", "Weekly"],
                     ["Tom Berg", "Globex", "Direct", "tom@globex.test", 20, D(2027, 2, 1), D(2027, 6, 30), ""]], f)
    wb.close()


def budget_sections(path: Path) -> None:
    """An event budget in sections down one sheet, each with its own header line naming the
    section over the same columns ('Venue | Estimated | Actual', then 'Promotion | Estimated |
    Actual'), a Total under each and lines not priced yet: one table of line items."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Expenses")
    ws.write("A1", "Launch event budget", f["title"])
    r = 2
    for section, lines in (("Venue", [["Room hire", 1500, 1400], ["AV equipment", 600, 650], ["Security", None, None]]),
                           ("Promotion", [["Printed invitations", 300, 280], ["Paid social", 1200, 1350]]),
                           ("Catering", [["Lunch", 900, 950], ["Coffee breaks", 250, 240]])):
        ws.write_row(r, 0, [section, "Estimated", "Actual"], f["head"])
        _rows(ws, r + 1, 0, lines, f)
        end = r + 1 + len(lines)
        ws.write_row(end, 0, ["Total", f"=SUM(B{r + 2}:B{end})", f"=SUM(C{r + 2}:C{end})"], f["bold"])
        r = end + 2
    wb.close()


def strategy_sheet(path: Path) -> None:
    """The issue's strategy sheet: Date, Platform, Activity Type, Objective, Budget, KPIs."""
    _simple("Strategy", ["Date", "Platform", "Activity Type", "Objective", "Budget", "KPIs"],
            [[D(2027, 2, 1), "Instagram", "Influencer collab", "Awareness", 5000, "Reach"],
             [D(2027, 2, 15), "Google", "Search ads", "Leads", 8000, "CPL"]])(path)


def no_plan_contacts(path: Path) -> None:
    """A contact list and a location sheet: no plan (exit 2, one honest line)."""
    wb, f = _book(path)
    ws = wb.add_worksheet("Contacts")
    ws.write_row(0, 0, ["Name", "Company", "Email", "Location", "Date Added", "Account Owner"])
    _rows(ws, 1, 0, [["Ana Lima", "Acme", "ana@acme.test", "Lisbon", D(2026, 5, 1), "Jo"],
                     ["Tom Berg", "Globex", "tom@globex.test", "Oslo", D(2026, 6, 2), "Al"]], f)
    wb.close()


C = Case
GALLERY: list[Case] = [
    C("plan_with_dashboard", plan_with_dashboard, "Marketing Plan", 10, "activity_plan",
      {"Activity": "activity", "Anticipated\nStart Date": "start", "Anticipated\nEnd Date": "end",
       "Budget (USD)": "budget", "Actual Spend": "actual", "Notes": "description"}, 7,
      errors={("XP204", "F14"), ("XP101", "G17")}, runner_up="Lookups"),
    C("gtm_launch_plan", gtm_launch_plan, "GTM Plan", 8, "activity_plan",
      {"Activity": "activity", "Target Audience": "audience",
       "Start Date": "start", "Budget": "budget"}, 6),
    C("generic_table_and_plan_sheet", generic_table_and_plan_sheet, "Marketing Plan", 3, "activity_plan",
      {"Tactic": "activity", "Launch": "start", "Finish": "end", "Budget": "budget"}, 3),
    C("project_planner", project_planner, "Planner", 3, "activity_plan",
      {"Task": "activity", "Assigned To": "owner", "Start": "start", "Due": "end", "Cost": "budget"}, 5,
      table="Tasks"),
    C("budget_by_month", budget_by_month, "Budget 2027", 4, "budget",
      {"Category": "category", "Total": "budget"}, 5, errors={("XP203", "H8")}, warnings={("XP102", "D12")},
      periods=12),
    C("budget_line_items_table", budget_line_items_table, "Budget", 3, "budget",
      {"Expense Category": "category", "Line Item": "activity", "Budgeted": "budget", "Actual": "actual",
       "Variance": "variance"}, 5, table="Q2Budget"),
    C("stacked_budget_tables", stacked_budget_tables, "Budget Detail", 4, "budget",
      {"Item": "activity", "Estimated": "budget", "Actual": "actual"}, 8, table="T_Advertising"),
    C("event_budget_side_by_side", event_budget_side_by_side, "Event Budget", 3, "budget",
      {"Expense Item": "activity", "Estimated": "budget", "Actual": "actual"}, 10),
    C("event_budget_template_tables", event_budget_template_tables, "Expenses", 7, "budget",
      {"Site": "channel", "Estimated": "budget", "Actual": "actual"}, 5, table="SiteExpenses"),
    C("budget_by_team_quarters", budget_by_team_quarters, "Team budgets", 3, "budget",
      {"Team": "owner", "FY Total": "budget"}, 3, periods=4),
    C("channel_report_no_label_header", channel_report_no_label_header, "Report", 3, "performance_log",
      {"": "activity", "Spend": "actual", "Impressions": "impressions", "Conversions": "conversions"}, 3),
    C("budget_es_months", budget_es_months, "Presupuesto", 3, "budget",
      {"Concepto": "activity", "Total": "budget"}, 3, periods=4),
    C("budget_ru_months", budget_ru_months, "Бюджет", 3, "budget", {"Статья расходов": "activity", "Итого": "budget"}, 3,
      periods=3),
    C("company_budget_sheets", company_budget_sheets, "Operating Expenses", 4, "budget",
      {"OPERATING EXPENSES": "activity", "ESTIMATED": "budget", "ACTUAL": "actual", "DIFFERENCE": "variance"}, 6,
      runner_up="Income"),
    C("posting_days_grid", posting_days_grid, "JUNE", 1, "content_calendar", {}, 4, periods=4),
    C("month_grid_then_posts", month_grid_then_posts, "May", 9, "performance_log",
      {"Date and Optimal Posting Times": "start", "Post Type": "category", "Insta/Facebook Caption": "description",
       "Posted for Instagram": "status", "Instagram Reach": "reach", "LinkedIn Clicks": "clicks"}, 3),
    C("agency_media_plan_en", agency_media_plan_en, "Plan_Media", 6, "media_plan",
      {"Source": "channel", "Placement": "placement", "Targeting": "audience", "Frequency": "units",
       "Reach": "reach", "Impressions": "impressions", "CPM": "cpm", "CTR, %": "ctr", "Clicks": "clicks"}, 3),
    C("dax_export", dax_export, "Export", 3, "performance_log",
      {"data[Campaign]": "activity", "data[Date]": "start", "data[Channel]": "channel",
       "data[Impressions]": "impressions", "data[Spend, GBP]": "actual", "data[Conversions]": "conversions"}, 3,
      table="Table_ExternalData_1"),
    C("budget_uk", budget_uk, "Бюджет", 1, "budget", {"Канали промоції": "channel", "Сума, грн": "budget"}, 4),
    C("budget_sections", budget_sections, "Expenses", 3, "budget",
      {"Estimated": "budget", "Actual": "actual"}, 6),
    C("strategy_sheet", strategy_sheet, "Strategy", 1, "activity_plan",
      {"Date": "start", "Platform": "channel", "Activity Type": "category", "Objective": "objective",
       "Budget": "budget", "KPIs": "kpi"}, 2, errors={("XP201", None)}),  # no End Date (Activity Type names the rows)
    C("daily_ad_budget", daily_ad_budget, "Daily Budget", 3, "budget", {"Channel": "channel"}, 3,
      warnings={("XP106", "O6")}, periods=14),
    C("campaign_performance", campaign_performance, "Campaign Results", 4, "performance_log",
      {"Campaign_Name": "activity", "Ad_Spend": "actual", "Conversion_Rate": "conversion_rate", "ROAS": "roas",
       "Impressions": "impressions"}, 5, errors={("XP209", "E8")}),
    C("campaign_dataset", campaign_dataset, "Marketing Data", 1, "performance_log",
      {"Campaign Name": "activity", "Start": "start", "End": "end", "CTR": "ctr", "Conversion Rate": "conversion_rate",
       "ROI": "roi", "Customer Demographics": None}, 4),
    C("daily_social_metrics", daily_social_metrics, "Daily", 1, "performance_log",
      {"Date": "start", "Platform": "channel", "Reach": "reach", "Engagements": "engagement",
       "Link Clicks": "clicks"}, 20),
    C("facebook_ads_vi", facebook_ads_vi, "Raw Data Report", 1, "performance_log",
      {"Tên chiến dịch": "activity", "Số tiền đã chi tiêu (VND)": "actual", "Lượt hiển thị": "impressions",
       "Người tiếp cận": "reach", "Chi phí trên mỗi kết quả": "cpa", "Lượt nhấp vào liên kết": "clicks",
       "CTR (tỷ lệ nhấp vào liên kết)": "ctr", "Bắt đầu báo cáo": "start"}, 3),
    C("seo_keywords", seo_keywords, "Keywords", 1, "performance_log",
      {"Keyword": "activity", "Search Volume": "impressions", "CPC": "cpc"}, 3),
    C("content_calendar", content_calendar, "Content Calendar", 3, "content_calendar",
      {"Publish Date": "start", "Platform": "channel", "Post Title": "activity", "Caption": "description",
       "Format": "category", "Status": "status"}, 4, errors={("XP202", "A6")}),
    C("weekday_grid_calendar", weekday_grid_calendar, "March", 3, "content_calendar", {}, 10, periods=7),
    C("newsletter_calendar", newsletter_calendar, "Newsletter", 1, "content_calendar",
      {"Send Date": "start", "Subject Line": "activity", "Segment": "audience"}, 3),
    C("social_schedule_es", social_schedule_es, "Calendario", 3, "content_calendar",
      {"Fecha de publicación": "start", "Red social": "channel", "Tema": "activity", "Estado": "status"}, 2),
    C("tv_media_plan", tv_media_plan, "TV Plan", 4, "media_plan",
      {"Station": "channel", "Programme": "activity", "Daypart": "placement", "Spots": "units",
       "Start": "start", "End": "end", "Net Cost": "budget", "Target Audience": "audience"}, 3),
    C("recruitment_media_plan", recruitment_media_plan, "Media Plan", 3, "media_plan",
      {"Vehicle": "channel", "Placement": "placement", "Insertions": "units", "Net Cost": "budget"}, 3,
      errors={("XP203", "H6")}),
    C("media_plan_ru", media_plan_ru, "Медиаплан", 9, "media_plan",
      {"Площадка": "channel", "Размещение": "placement", "Формат": "category", "Таргетинг": "audience",
       "Период размещения": "period", "Кол-во": "units", "Бюджет без НДС, руб.": "budget",
       "Прогноз показов": "impressions", "Прогноз кликов": "clicks", "CTR, %": "ctr",
       "Комментарий": "description"}, 4),
    C("amazon_ads_daily_zh", amazon_ads_daily_zh, "Sheet1", 1, "performance_log",
      {"广告日期": "start", "广告活动名称": "activity", "展示量": "impressions", "点击量": "clicks",
       "花费": "actual", "销售额": "revenue"}, 6,
      warnings={("XP105", f"A{r}") for r in range(3, 9)}),
    C("plan_pt", plan_pt, "Plano de Marketing", 3, "activity_plan",
      {"Atividade": "activity", "Data de início": "start", "Orçamento (R$)": "budget", "Realizado": "actual"}, 2),
    C("plan_fr", plan_fr, "Plan d'actions", 1, "activity_plan",
      {"Action": "activity", "Date de début": "start", "Budget prévu": "budget", "Dépenses réelles": "actual"}, 2,
      errors={("XP204", "E3")}),
    C("plan_de", plan_de, "Marketingplan", 1, "activity_plan",
      {"Maßnahme": "activity", "Startdatum": "start", "Budget (€)": "budget", "Ist-Kosten": "actual"}, 2),
    C("budget_it", budget_it, "Budget", 3, "budget",
      {"Voce di spesa": "activity", "Preventivo": "budget", "Consuntivo": "actual"}, 3),
    C("performance_nl", performance_nl, "Resultaten", 1, "performance_log",
      {"Campagnenaam": "activity", "Vertoningen": "impressions", "Besteed bedrag (EUR)": "actual"}, 2),
    C("plan_ja", plan_ja, "施策計画", 1, "activity_plan",
      {"施策名": "activity", "開始日": "start", "予算（円）": "budget", "実績": "actual"}, 2),
    C("plan_zh", plan_zh, "营销计划", 1, "activity_plan",
      {"活动名称": "activity", "开始日期": "start", "预算": "budget", "实际花费": "actual"}, 2),
]

# Workbooks with no plan: (name, builder, words the one-line message must contain).
NO_PLAN = [("no_plan_contacts", no_plan_contacts, ["'Contacts' row 1"]),
           ("no_plan_leads", no_plan_leads, ["'Leads' row 1", "leads"]),
           ("no_plan_client_crm", no_plan_client_crm, ["'Clients' row 4", "clients"])]


def build_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for case in GALLERY:
        p = folder / f"{case.name}.xlsx"
        case.build(p)
        out[case.name] = p
    return out
