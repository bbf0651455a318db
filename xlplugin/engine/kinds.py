"""What kind of marketing sheet a header describes (model.SHEET_KINDS).

Each kind is scored from the fields its header matched: the kind whose tell-tale columns
are present wins.  The scores are kept so `check --explain` can say why.
"""

from __future__ import annotations

from collections.abc import Collection

METRICS = frozenset({"impressions", "clicks", "leads", "conversions", "revenue", "reach", "engagement",
                     "ctr", "cpc", "cpm", "cpa", "conversion_rate", "roas", "roi", "result"})
# Rates and returns per row are results a campaign has had: a plan sets targets, a log reports these.
RATES = frozenset({"ctr", "cpc", "cpm", "cpa", "conversion_rate", "roas", "roi"})
# What a media plan forecasts for its placements as well as what a log reports (impressions,
# reach, clicks and their prices); OUTCOMES are what only results show.
DELIVERY = frozenset({"impressions", "clicks", "reach", "engagement", "ctr", "cpc", "cpm"})
OUTCOMES = METRICS - DELIVERY
MONEY = frozenset({"budget", "actual", "forecast", "variance"})
# Fields that can name a row (what a finding or a Summary line calls it).
LABEL_FIELDS = ("activity", "category", "channel", "placement", "id", "description")

KIND_NAMES = {
    "activity_plan": "activity plan",
    "budget": "budget",
    "performance_log": "campaign performance log",
    "content_calendar": "content calendar",
    "media_plan": "media plan",
}


def kind_scores(fields: Collection[str], periods: int = 0, weak: Collection[str] = ()) -> dict[str, float]:
    """How well the matched fields fit each kind (higher is better).  weak: fields matched only by
    a generic word ('Qty' is a budget's count as often as a media plan's spots)."""
    f = set(fields)
    has = f.__contains__
    units = has("units") and "units" not in weak
    metrics = len(f & METRICS)
    money = len(f & MONEY)
    dated = has("start") + has("end")
    rates = len(f & RATES)
    return {
        # dates and a planned budget, an owner, an objective: things to do
        "activity_plan": (1.0 * has("start") + 1.0 * has("end") + 0.75 * has("budget") + 0.5 * has("owner")
                          + 0.5 * has("objective") + 0.5 * has("kpi") + 0.5 * has("stage")
                          + 0.25 * has("activity") + 0.25 * has("status") + 0.25 * has("target")
                          + (1.0 if has("start") and has("end") else 0.0)
                          - 1.0 * has("placement") - 0.5 * has("units") - 0.5 * rates
                          + (2.0 if has("start") and has("end") and has("budget") else 0.0)),
        # amounts by line item or category, often by month or quarter, no dates per row
        "budget": (0.0 if not (money or periods >= 3) else
                   1.0 * money + (2.5 if periods >= 3 else 0.0) + 0.5 * has("category")
                   + 0.5 * (has("forecast") or has("variance")) - 0.75 * dated - 0.5 * metrics),
        # spend and results per campaign or per day
        "performance_log": (0.0 if metrics < 2 else
                            1.0 * metrics + 0.75 * has("actual") + 0.25 * has("start")
                            - 0.5 * has("budget") * has("end") - 0.5 * has("owner") - 0.5 * has("kpi")
                            - 0.5 * has("objective") - 0.5 * has("units") - 0.5 * has("period")
                            - 0.5 * has("audience")),
        # when, where and what is published
        "content_calendar": (0.0 if not has("start") else
                             1.0 + 0.75 * has("channel") + 0.5 * has("status") + 0.5 * has("description")
                             + 0.5 * has("category") + 0.25 * has("owner") + 0.25 * has("activity")
                             - 1.0 * money - 0.5 * metrics - 0.5 * has("end") - 0.5 * has("objective")
                             + (0.5 if not money and not has("end") else 0.0)),
        # where ads run (vehicle, placement or show), for whom, at what cost, for what delivery
        # (a plan forecasts impressions and clicks; conversions and returns are results)
        "media_plan": (0.0 if not (has("placement") or units or has("audience")) else
                       2.5 * has("placement") + 1.5 * units + 0.5 * (has("units") and not units)
                       + 0.75 * has("audience")
                       + 0.5 * has("channel") + 0.5 * bool(money) + 0.25 * has("reach") + 0.5 * has("period")
                       + 0.25 * min(len(f & DELIVERY), 4) - 0.5 * len(f & OUTCOMES)
                       - 0.5 * has("owner") - 0.5 * has("objective")),
    }


def classify(fields: Collection[str], periods: int = 0, weak: Collection[str] = ()) -> str:
    """The kind whose tell-tale columns the header has; an activity plan when in doubt."""
    scores = kind_scores(fields, periods, weak)
    best = max(scores, key=lambda k: (scores[k], k == "activity_plan"))
    return best if scores[best] > 0 else "activity_plan"


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.replace("_", " "))
