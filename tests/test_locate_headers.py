"""Header vocabulary: synonyms matched whole, as words inside a header, and in other languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan_factory import make_plan
from xlplugin.config import Config
from xlplugin.engine.headers import Vocabulary, load_synonyms, vocabulary
from xlplugin.engine.locate import locate_plan
from xlplugin.file.read import open_workbook


@pytest.mark.parametrize(("header", "field"), [
    # words inside a longer header, multi-line and underscores
    ("Anticipated\nStart Date", "start"), ("Actual\nEnd Date", "end"), ("Ad_Spend", "actual"),
    ("Amount spent (USD)", "actual"), ("Total Impressions", "impressions"), ("Campaign_Name", "activity"),
    ("Expense Category", "category"), ("Link clicks", "clicks"), ("Reporting starts", "start"),
    ("Post Title", "activity"), ("Publish Date", "start"), ("Placement", "placement"), ("Vehicle", "channel"),
    ("Target Audience", "audience"), ("Keyword", "activity"), ("Show", "placement"),
    # rates and shares are not the amounts or counts they mention
    ("Conversion_Rate", "conversion_rate"), ("Cost per Click", "cpc"), ("Avg. CPC", "cpc"),
    ("CTR (link click-through rate)", "ctr"), ("Cost per result", "cpa"),
    # Spanish, Portuguese, French, German, Italian, Dutch
    ("Fecha de publicación", "start"), ("Importe gastado (EUR)", "actual"), ("Presupuesto", "budget"),
    ("Orçamento (R$)", "budget"), ("Data de término", "end"), ("Valor usado (BRL)", "actual"),
    ("Dépenses réelles", "actual"), ("Date de début", "start"), ("Nom de la campagne", "activity"),
    ("Maßnahme", "activity"), ("Ist-Kosten", "actual"), ("Startdatum", "start"), ("Zielgruppe", "audience"),
    ("Voce di spesa", "activity"), ("Consuntivo", "actual"), ("Data di inizio", "start"),
    ("Besteed bedrag (EUR)", "actual"), ("Vertoningen", "impressions"), ("Einddatum", "end"),
    # Vietnamese (a Facebook Ads export), Japanese, Chinese
    ("Tên chiến dịch", "activity"), ("Số tiền đã chi tiêu (VND)", "actual"), ("Lượt hiển thị", "impressions"),
    ("Người tiếp cận", "reach"), ("CTR (tỷ lệ nhấp vào liên kết)", "ctr"),
    ("Chi phí trên mỗi kết quả", "cpa"), ("Bắt đầu báo cáo", "start"),
    ("施策名", "activity"), ("予算（円）", "budget"), ("消化金額(円)", "actual"), ("クリック数", "clicks"),
    ("クリック率", "ctr"), ("開始日", "start"),
    ("活动名称", "activity"), ("预算", "budget"), ("实际花费", "actual"), ("点击率", "ctr"), ("展示次数", "impressions"),
    ("開始日期", "start"),
    # Russian (agency media plans: currency, VAT and "per" in the header)
    ("Площадка", "channel"), ("Размещение", "placement"), ("ЦА", "audience"), ("Период размещения", "period"),
    ("Бюджет без НДС, руб.", "budget"), ("Стоимость, руб. без НДС", "budget"), ("Прогноз показов", "impressions"),
    ("Кол-во кликов", "clicks"), ("Стоимость 1000 показов", "cpm"), ("Стоимость за клик, руб.", "cpc"),
    ("Охват, чел.", "reach"), ("Дата начала", "start"), ("Название кампании", "activity"),
    ("Расходы за период", "actual"),
])
def test_header_means(header: str, field: str) -> None:
    m = vocabulary().match(header)
    assert m is not None and m.field == field, (header, m)


@pytest.mark.parametrize("header", ["Location", "Budget %", "Share of budget", "Trade show booth",
                                    "Customer marketing team notes", "Company", "Email",
                                    # a unit price is not the budget
                                    "Стоимость за единицу, руб.", "Цена за единицу"])
def test_not_a_field(header: str) -> None:
    assert vocabulary().match(header) is None


def test_words_match_says_how() -> None:
    m = vocabulary().match("Anticipated\nStart Date")
    assert (m.how, m.synonym) == ("words", "Start Date")
    assert vocabulary().match("Start Date").how == "exact"


def test_a_team_columns_file_extends_every_language(tmp_path: Path) -> None:
    extra = tmp_path / "cols.toml"
    extra.write_text('[columns]\nactivity = ["Hạng mục công việc", "Vorhabenpunkt"]\n', encoding="utf-8")
    v = Vocabulary(load_synonyms(extra))
    assert v.match("Hạng mục công việc").field == "activity" and v.match("Vorhabenpunkt").field == "activity"
    path = make_plan(tmp_path / "vi.xlsx", headers=["Vorhabenpunkt", "Kênh", "Ngân sách", "Ngày bắt đầu"],
                     rows=[["Hội chợ", "Sự kiện", 100, None]], sheet="Kế hoạch")
    with open_workbook(path) as wb:
        p = locate_plan(wb, config=Config(columns_file=extra))
    assert {c.header: c.field for c in p.columns} == {"Vorhabenpunkt": "activity", "Kênh": "channel",
                                                      "Ngân sách": "budget", "Ngày bắt đầu": "start"}
