"""Build templates/sample-plan.xlsx: the demo plan `xlplugin demo` runs on.

Run: python templates/sample_plan.py [OUT]

Brightline Analytics, a B2B software company, plans its 2027 marketing: 40 activities,
clearly upstream ones (research, positioning, pricing research), clearly downstream ones
(ads, events, email, sales enablement) and a few honest "it depends" (beta program,
content marketing, analyst relations, a survey that also collects leads).

Unlike the template this is a plain range, not an Excel Table: a title row above, the
header at B3, some synonym headers ("Campaign", "Budget ($)", "Actual Spend"), a totals
row with formulas.  Planted problems a validator should catch (PLANTED below):
a budget typed as text, an end date before its start, a negative actual, a channel
typo, a duplicated ID and a blank budget.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import xlsxwriter

try:  # imported as xlplugin.templates.sample_plan, or run as a script
    from .build_template import BUILD_DATE, CATEGORIES, CHANNELS, STAGES, STATUSES
except ImportError:  # pragma: no cover - script mode
    from build_template import BUILD_DATE, CATEGORIES, CHANNELS, STAGES, STATUSES

HERE = Path(__file__).resolve().parent
OUT = HERE / "sample-plan.xlsx"
SHEET = "2027 Plan"
HEADER_ROW = 3          # Excel row of the header
FIRST_COL = 2           # column B

HEADERS = ["ID", "Campaign", "Description", "Category", "Channel", "Owner", "Start Date",
           "End Date", "Quarter", "Status", "Budget ($)", "Actual Spend", "KPI", "Target",
           "Leads", "Conversions", "Revenue", "Stage"]
WIDTHS = [8, 36, 50, 20, 15, 10, 12, 12, 9, 12, 12, 13, 20, 9, 8, 12, 12, 12]
MONEY = {"Budget ($)", "Actual Spend", "Revenue"}
COUNTS = {"Target", "Leads", "Conversions"}

# Where the planted problems are: ID -> (column header, what is wrong).
PLANTED = {
    "BL-021": ("Budget ($)", "number typed as text with letter O's: $1,2OO"),
    "BL-030": ("End Date", "end date before the start date"),
    "BL-025": ("Actual Spend", "negative actual"),
    "BL-016": ("Channel", "channel typo 'Serach'"),
    "BL-038": ("ID", "ID used twice (podcast and executive dinners)"),
    "BL-040": ("Budget ($)", "budget left blank"),
}


def d(month: int, day: int) -> dt.date:
    return dt.date(2027, month, day)


# ID, Campaign, Description, Category, Channel, Owner, Start, End, Status, Budget, Actual,
# KPI, Target, Leads, Conversions, Revenue
ROWS: list[list[object]] = [
    # --- upstream: before the product is for sale -------------------------------------
    ["BL-001", "Win/loss interviews", "20 interviews with recently won and lost deals",
     "Market research", "Research", "Dana", d(1, 11), d(2, 19), "Done", 14000, 13200,
     "Interviews completed", 20, None, None, None],
    ["BL-002", "Mid-market segmentation study", "Cluster analysis of 3,000 firmographic records to size segments",
     "Market research", "Research", "Dana", d(1, 18), d(3, 12), "Done", 22000, 23500,
     "Segments sized", 4, None, None, None],
    ["BL-003", "Competitive landscape analysis", "Feature and pricing teardown of six competitors",
     "Market research", "Research", "Luis", d(2, 1), d(3, 5), "Done", 8000, 7600,
     "Report delivered", None, None, None, None],
    ["BL-004", "Pricing research for the Pro tier", "Price-sensitivity survey (Van Westendorp) with 600 buyers",
     "Product & pricing", "Research", "Luis", d(2, 15), d(3, 31), "Done", 16000, 15100,
     "Price points tested", 3, None, None, None],
    ["BL-005", "Concept test: forecasting add-on", "Prototype walkthroughs with 12 customers",
     "Product & pricing", "Product", "Luis", d(3, 1), d(4, 9), "Done", 11000, 10800,
     "Concept score", 70, None, None, None],
    ["BL-006", "Brand positioning workshop", "Agency-led workshop to sharpen positioning and messaging",
     "Brand & positioning", "Brand", "Priya", d(3, 8), d(3, 9), "Done", 18000, 18000,
     "Positioning signed off", None, None, None, None],
    ["BL-007", "Visual identity refresh", "New logo lockups, colour palette and design system",
     "Brand & positioning", "Brand", "Priya", d(4, 1), d(6, 30), "In progress", 45000, 30000,
     "Brand guidelines", None, None, None, None],
    ["BL-008", "Buyer persona research", "Interviews and shadowing with heads of data teams",
     "Market research", "Research", "Dana", d(3, 15), d(4, 30), "Done", 9000, 9400,
     "Personas published", 3, None, None, None],
    ["BL-009", "Channel partner program design", "Define reseller tiers, margins and partner requirements",
     "Partnerships", "Partners", "Tom", d(4, 5), d(6, 18), "In progress", 12000, 6500,
     "Program approved", None, None, None, None],
    ["BL-010", "Expansion market study: DACH", "Market sizing and regulatory review for Germany, Austria, Switzerland",
     "Market research", "Strategy", "Tom", d(5, 3), d(7, 30), "In progress", 26000, 11000,
     "Go/no-go decision", None, None, None, None],
    ["BL-011", "Customer advisory board", "Quarterly sessions with 10 customers shaping the 2028 roadmap",
     "Product & pricing", "Product", "Luis", d(3, 1), d(12, 10), "In progress", 24000, 9000,
     "Roadmap inputs", 4, None, None, None],
    ["BL-012", "Trend analysis: AI in BI tools", "Analyst reports and expert calls on the AI features buyers expect",
     "Market research", "Research", "Dana", d(6, 1), d(7, 15), "In progress", 7500, 3000,
     "Trend brief", None, None, None, None],
    # --- downstream: launch and after ---------------------------------------------------
    ["BL-013", "Launch sales training", "Train 40 account executives and SEs on the Pro tier before launch",
     "Sales enablement", "Sales", "Sam", d(4, 19), d(4, 30), "Done", 9000, 8700,
     "Reps certified", 40, None, None, None],
    ["BL-014", "Launch collateral kit", "Datasheets, battlecards and demo script for the Pro tier",
     "Sales enablement", "Content", "Sam", d(4, 5), d(4, 30), "Done", 12000, 12600,
     "Assets delivered", 6, None, None, None],
    ["BL-015", "Paid search: Pro tier launch", "Google and Bing ads on launch keywords",
     "Advertising", "Search", "Priya", d(5, 3), d(6, 30), "Done", 38000, 36200,
     "Leads", 700, 742, 61, 183000],
    ["BL-016", "Paid search: always-on brand terms", "Brand keyword coverage all year",
     "Advertising", "Serach", "Priya", d(1, 4), d(12, 31), "In progress", 24000, 11800,
     "Leads", 900, 455, 40, 96000],
    ["BL-017", "LinkedIn ABM campaign", "Account-based ads to 500 target accounts",
     "Advertising", "Social", "Priya", d(5, 10), d(8, 31), "In progress", 42000, 19500,
     "Meetings booked", 120, 210, 18, 54000],
    ["BL-018", "Retargeting display ads", "Retarget visitors of the pricing page with demo offers",
     "Advertising", "Display", "Priya", d(5, 15), d(9, 30), "In progress", 15000, 6100,
     "Demo requests", 150, 96, 9, 27000],
    ["BL-019", "DataWorld Expo booth", "Booth with live demos at the annual analytics expo",
     "Events", "Events", "Sam", d(6, 8), d(6, 10), "Done", 55000, 58900,
     "Leads", 400, 386, 22, 145000],
    ["BL-020", "Regional roadshow (4 cities)", "Half-day demo events in Chicago, Austin, Boston and Denver",
     "Events", "Events", "Sam", d(9, 13), d(10, 22), "Planned", 48000, 0,
     "Leads", 320, None, None, None],
    ["BL-021", "Customer webinar series", "Monthly how-to webinars for admins of existing accounts",
     "Customer marketing", "Content", "Ana", d(2, 1), d(12, 15), "In progress", "$1,2OO", 2900,
     "Attendees", 600, None, None, None],
    ["BL-022", "Trial nurture emails", "Seven-step nurture for free-trial sign-ups",
     "Email & CRM", "Email", "Ana", d(5, 3), d(12, 31), "In progress", 5000, 2100,
     "Trial-to-paid %", 15, 310, 44, 79000],
    ["BL-023", "Renewal and upsell campaign", "Emails and CSM outreach to accounts renewing in Q4",
     "Customer marketing", "Email", "Ana", d(9, 1), d(11, 30), "Planned", 7000, 0,
     "Renewal rate %", 92, None, None, None],
    ["BL-024", "Customer referral program", "Account credits for customers who refer new buyers",
     "Customer marketing", "Customer success", "Ana", d(7, 1), d(12, 31), "Planned", 20000, 0,
     "Referrals", 60, None, None, None],
    ["BL-025", "Launch press release and media briefings", "Press release and briefings with trade media",
     "Advertising", "PR", "Priya", d(5, 3), d(5, 14), "Done", 10000, -9500,
     "Articles published", 8, None, None, None],
    ["BL-026", "Summer promotion: 20% off annual plans", "Limited-time discount for new annual subscriptions",
     "Advertising", "Email", "Ana", d(7, 5), d(8, 15), "Planned", 8000, 0,
     "Conversions", 80, None, None, None],
    ["BL-027", "Customer case study videos", "Three customer story videos for the website and ads",
     "Content", "Video", "Tom", d(6, 1), d(8, 31), "In progress", 27000, 9000,
     "Video views", 15000, None, None, None],
    ["BL-028", "Pricing page redesign", "New pricing page and plan comparison for the Pro tier",
     "Advertising", "Web", "Tom", d(4, 1), d(4, 28), "Done", 14000, 13500,
     "Page conversion %", 4, 120, 14, 41000],
    ["BL-029", "Partner co-marketing fund", "Market development funds for reseller campaigns",
     "Partnerships", "Partners", "Tom", d(7, 1), d(12, 31), "Planned", 30000, 0,
     "Partner-sourced leads", 250, None, None, None],
    ["BL-030", "Direct mail to enterprise prospects", "Dimensional mailer to 200 executives at target accounts",
     "Advertising", "Direct mail", "Sam", d(10, 29), d(10, 4), "Planned", 16000, 0,
     "Meetings booked", 30, None, None, None],
    ["BL-031", "Customer onboarding academy", "Self-paced training courses for new customers",
     "Customer marketing", "Customer success", "Ana", d(3, 1), d(9, 30), "In progress", 11000, 6400,
     "Courses completed", 500, None, None, None],
    ["BL-032", "Holiday retargeting push", "Year-end retargeting of open opportunities",
     "Advertising", "Social", "Priya", d(11, 15), d(12, 22), "Planned", 9000, 0,
     "Pipeline influenced", 40, None, None, None],
    # --- genuinely ambiguous: a reviewer should decide ------------------------------------
    ["BL-033", "Beta program: forecasting add-on", "Early access for 25 customers; their feedback shapes the release",
     "Product & pricing", "Product", "Luis", d(5, 1), d(7, 31), "In progress", 6000, 2500,
     "Beta participants", 25, None, None, None],
    ["BL-034", "Content marketing: blog and SEO", "Two articles a month on analytics practice",
     "Content", "Content", "Ana", d(1, 4), d(12, 20), "In progress", 12000, 5800,
     "Organic visits", 40000, 180, 6, 15000],
    ["BL-035", "Analyst relations program", "Briefings and inquiries with industry analysts",
     "Brand & positioning", "PR", "Tom", d(2, 1), d(11, 30), "In progress", 35000, 17500,
     "Analyst mentions", 3, None, None, None],
    ["BL-036", "State of Analytics survey report", "Industry survey of 1,000 practitioners; the report is gated to collect leads",
     "Market research", "Research", "Dana", d(8, 2), d(10, 15), "Planned", 19000, 0,
     "Leads", 500, None, None, None],
    ["BL-037", "Power-user community meetups", "Quarterly user group meetups in three cities",
     "Customer marketing", "Events", "Ana", d(3, 10), d(12, 8), "In progress", 8000, 3600,
     "Attendees", 300, None, None, None],
    # --- more downstream ------------------------------------------------------------------------
    ["BL-038", "Podcast sponsorship", "Six sponsored episodes on data leadership podcasts",
     "Advertising", "Other", "Priya", d(8, 1), d(10, 31), "Planned", 13000, 0,
     "Site visits", 3000, None, None, None],
    ["BL-038", "Executive dinner series", "Four invitation-only dinners for CDOs at target accounts",
     "Events", "Events", "Sam", d(9, 20), d(11, 18), "Planned", 22000, 0,
     "Opportunities", 12, None, None, None],
    ["BL-040", "Free-tier upgrade prompts", "In-app prompts and offers nudging free users to paid plans",
     "Customer marketing", "Web", "Tom", d(6, 15), d(12, 31), "In progress", None, 1500,
     "Upgrades", 200, 95, 31, 46000],
]


def quarter(v: object) -> str:
    return f"Q{(v.month - 1) // 3 + 1}" if isinstance(v, dt.date) else ""


def build(out: Path = OUT) -> Path:
    wb = xlsxwriter.Workbook(str(out))
    wb.set_properties({"title": "Brightline Analytics 2027 marketing plan", "author": "Marketing Ops",
                       "company": "Brightline Analytics", "created": BUILD_DATE})
    base = {"valign": "top"}
    f_text = wb.add_format(base)
    f_wrap = wb.add_format({**base, "text_wrap": True})
    f_date = wb.add_format({**base, "num_format": "yyyy-mm-dd", "align": "left"})
    f_money = wb.add_format({**base, "num_format": "$#,##0"})
    f_count = wb.add_format({**base, "num_format": "#,##0"})
    f_head = wb.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF",
                            "border": 1, "valign": "vcenter", "text_wrap": True})
    f_title = wb.add_format({"bold": True, "font_size": 16, "font_color": "#1F4E78"})
    f_sub = wb.add_format({"italic": True, "font_color": "#595959"})
    f_total_label = wb.add_format({"bold": True, "top": 2})
    f_total_money = wb.add_format({"bold": True, "top": 2, "num_format": "$#,##0"})
    f_total_count = wb.add_format({"bold": True, "top": 2, "num_format": "#,##0"})
    f_total_blank = wb.add_format({"top": 2})

    ws = wb.add_worksheet(SHEET)
    lists = wb.add_worksheet("Lists")
    r0, c0 = HEADER_ROW - 1, FIRST_COL - 1      # 0-based for XlsxWriter
    ws.write_string(0, c0, "Brightline Analytics \u2013 2027 Marketing Plan", f_title)
    ws.write_string(1, c0, "Marketing Ops \u00b7 amounts in USD \u00b7 draft v3, status as of 1 July 2027",
                    f_sub)
    ws.write_row(r0, c0, HEADERS, f_head)
    ws.set_row(r0, 30)

    qi = HEADERS.index("Quarter")
    for i, row in enumerate(ROWS):
        values = row[:qi] + [quarter(row[6])] + row[qi:]
        r = r0 + 1 + i
        for j, v in enumerate(values):
            h = HEADERS[j]
            c = c0 + j
            if v is None:
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), f_date)
            elif isinstance(v, str):
                ws.write_string(r, c, v, f_wrap if h == "Description" else f_text)
            else:
                ws.write_number(r, c, v, f_money if h in MONEY else f_count if h in COUNTS else f_text)

    # Totals row right under the data: formulas with their cached values.
    tr = r0 + 1 + len(ROWS)
    first, last = r0 + 2, r0 + 1 + len(ROWS)    # 1-based Excel rows of the data
    for j in range(len(HEADERS)):
        ws.write_blank(tr, c0 + j, None, f_total_blank)
    ws.write_string(tr, c0 + 1, "Total", f_total_label)
    for h in ("Budget ($)", "Actual Spend", "Leads", "Conversions", "Revenue"):
        j = HEADERS.index(h)
        src = j if j < qi else j - 1            # index into ROWS (no Quarter there)
        total = sum(r[src] for r in ROWS if isinstance(r[src], (int, float)))
        col = xlsxwriter.utility.xl_col_to_name(c0 + j)
        ws.write_formula(tr, c0 + j, f"=SUM({col}{first}:{col}{last})",
                         f_total_money if h in MONEY else f_total_count, total)

    for j, w in enumerate(WIDTHS):
        ws.set_column(c0 + j, c0 + j, w)
    ws.set_column(0, 0, 2)
    ws.freeze_panes(r0 + 1, c0 + 2)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(r0)
    ws.autofilter(r0, c0, last - 1, c0 + len(HEADERS) - 1)

    # Dropdown sources, as in the template.
    f_bold = wb.add_format({"bold": True})
    for j, (title, values) in enumerate((("Channel", CHANNELS), ("Status", STATUSES),
                                         ("Stage", STAGES), ("Category", CATEGORIES))):
        lists.write_string(0, j, title, f_bold)
        lists.write_column(1, j, values)
        lists.set_column(j, j, 20)
        col = xlsxwriter.utility.xl_col_to_name(j)
        k = HEADERS.index(title)
        ws.data_validation(r0 + 1, c0 + k, r0 + 200, c0 + k, {
            "validate": "list", "source": f"=Lists!${col}$2:${col}${1 + len(values)}",
            "error_type": "warning"})
    ws.activate()
    wb.close()
    return out


if __name__ == "__main__":
    path = build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"wrote {path}")
