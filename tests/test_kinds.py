"""Sheet kinds from the fields a header matched, and the layouts read across columns."""

from __future__ import annotations

import datetime as dt

import pytest

from xlplugin.engine.kinds import classify
from xlplugin.engine.layouts import period_columns, period_label, weekday, weekday_columns


@pytest.mark.parametrize(("fields", "periods", "kind"), [
    ({"id", "activity", "channel", "owner", "start", "end", "budget", "actual", "leads", "conversions",
      "revenue", "kpi"}, 0, "activity_plan"),
    ({"activity", "channel", "owner", "start", "end", "actual", "leads", "conversions", "revenue", "kpi"},
     0, "activity_plan"),                                  # a plan whose Budget header is misspelt
    ({"category", "activity", "budget", "actual", "variance"}, 0, "budget"),
    ({"category", "budget"}, 12, "budget"),
    ({"activity", "actual", "impressions", "clicks", "conversions", "revenue"}, 0, "performance_log"),
    ({"activity", "start", "end", "actual", "impressions", "reach", "clicks", "ctr", "cpa", "status"}, 0,
     "performance_log"),                                   # a Meta export: reporting starts/ends
    ({"start", "channel", "impressions", "reach", "engagement", "clicks"}, 0, "performance_log"),
    ({"start", "channel", "activity", "description", "category", "status", "owner"}, 0, "content_calendar"),
    ({"start", "activity", "audience", "owner", "status"}, 0, "content_calendar"),
    ({"channel", "placement", "audience", "units", "start", "end", "budget"}, 0, "media_plan"),
    ({"channel", "activity", "placement", "units", "start", "end", "budget", "audience"}, 0, "media_plan"),
    ({"activity", "owner", "start", "end", "audience", "channel", "budget", "status"}, 0, "activity_plan"),
    ({"start", "channel", "category", "objective", "budget", "kpi"}, 0, "activity_plan"),
    # campaigns with dates and their rates and returns: results, not a plan
    ({"activity", "start", "end", "channel", "ctr", "conversion_rate", "roi"}, 0, "performance_log"),
    # a plan with its targets and one rate beside stays a plan
    ({"activity", "owner", "start", "end", "budget", "kpi", "target", "ctr"}, 0, "activity_plan"),
])
def test_classify(fields: set[str], periods: int, kind: str) -> None:
    assert classify(fields, periods) == kind


@pytest.mark.parametrize(("value", "label"), [
    ("Jan", "Jan"), ("February 2027", "February 2027"), ("Q3", "Q3"), ("Q1 2027", "Q1 2027"), ("2027-01", "2027-01"),
    ("Jan-27", "Jan-27"), ("Tháng 1", "Tháng 1"), ("1月", "1月"), ("Enero", "Enero"), ("Week 1", "Week 1"),
    (dt.date(2027, 3, 1), "2027-03-01"), ("Budget", None), ("Janitor", None), ("Marketing", None),
    ("Январь", "Январь"), ("Май 2027", "Май 2027"), ("II кв.", "II кв."), ("Неделя 3", "Неделя 3"),
    ("Маркетинг", None), ("Мартовская акция", None),
])
def test_period_label(value, label) -> None:
    assert period_label(value) == label


def test_a_data_row_with_two_dates_and_a_quarter_is_not_periods() -> None:
    row = {2: "BL-040", 3: "Prompts", 8: dt.date(2027, 6, 15), 9: dt.date(2027, 12, 31), 10: "Q2", 11: "Done"}
    assert period_columns(row) == {}
    months = {1: "Channel", **{2 + i: m for i, m in enumerate(["Jan", "Feb", "Mar", "Apr"])}, 6: "Total"}
    assert list(period_columns(months)) == [2, 3, 4, 5]


def test_weekdays_in_several_languages() -> None:
    assert [weekday(d) for d in ("Monday", "Mar", "Mittwoch", "jeudi", "Thứ Sáu", "土曜日", "星期日")] == \
        [0, 1, 2, 3, 4, 5, 6]
    assert weekday_columns({1: "Lun", 2: "Mar", 3: "Mié", 4: "Jue", 5: "Vie", 6: "Sáb", 7: "Dom"})
    assert weekday_columns({1: "Activity", 2: "Mon", 3: "Budget"}) == {}
