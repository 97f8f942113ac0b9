"""The earn rules as the programme's rulebook: ``evaluate`` with plain values, no database.

Every example is a receipt in euros (minor units: 4590 is 45.90) at a Berlin till, read in
the programme's local wall-clock time. A breakdown is written as ``(rule name, points)``.
"""

import math
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.campaigns.models import CampaignKind
from app.earning.rules import CampaignRule, Earner, Evaluation, Line, Sale, evaluate
from app.program.schemas import ProgramSettings

WEDNESDAY_NOON = datetime(2026, 6, 10, 12, 0)  # naive: the programme's wall-clock time
EURO_RATE = ProgramSettings()  # 1 point per 1.00
GOLD_ID = uuid.UUID(int=1)
SILVER_ID = uuid.UUID(int=2)
GOLD = Earner(tier_id=GOLD_ID, tier_name="Gold", tier_multiplier=Decimal("1.5"))
SILVER = Earner(tier_id=SILVER_ID, tier_name="Silver", tier_multiplier=Decimal("1.25"))


def program(**settings: Any) -> ProgramSettings:
    return ProgramSettings.model_validate(settings)


def line(sku: str, quantity: int, unit_price: int, category: str | None = None) -> Line:
    return Line(sku=sku, category=category, quantity=quantity, unit_price=unit_price)


def sale(
    total: int,
    *lines: Line,
    channel: str = "pos",
    store_id: str | None = None,
    at: datetime = WEDNESDAY_NOON,
    currency: str = "EUR",
) -> Sale:
    return Sale(
        total=total,
        currency=currency,
        channel=channel,
        store_id=store_id,
        lines=list(lines),
        local_time=at,
    )


def campaign(name: str, kind: str, **fields: Any) -> CampaignRule:
    """A campaign whose id follows from its name, so examples are reproducible."""
    return CampaignRule(
        id=uuid.uuid5(uuid.NAMESPACE_URL, name), name=name, kind=CampaignKind(kind), **fields
    )


def double_points(name: str = "double points", **fields: Any) -> CampaignRule:
    return campaign(name, "multiplier", multiplier=Decimal(2), **fields)


def bonus(points: int, name: str = "bonus", **fields: Any) -> CampaignRule:
    return campaign(name, "bonus_points", points=points, **fields)


def lines_of(evaluation: Evaluation) -> list[tuple[str, int]]:
    return [(line.name, line.points) for line in evaluation.breakdown]


def applied(evaluation: Evaluation) -> list[str]:
    """The campaigns that counted, in breakdown order."""
    return [line.name for line in evaluation.breakdown if line.rule == "campaign"]


# 1. Base rate


def test_the_base_rate_is_points_per_currency_unit_rounded_down():
    evaluation = evaluate(sale(4590), EURO_RATE)

    assert evaluation.points == 45
    assert lines_of(evaluation) == [("base rate", 45)]
    assert evaluation.breakdown[0].rule == "base"


@pytest.mark.parametrize(
    ("rate", "total", "points"),
    [
        ("0.1", 999, 0),  # 1 point per 10.00: 9.99 earns nothing yet
        ("0.1", 1000, 1),
        ("0.1", 4590, 4),
        ("0.1", 9999, 9),  # 9.999 points: rounded down, never up
        ("0.7", 9000, 63),  # as floats, 90 * 0.7 is 62.99999999999999
        ("2.3", 5000, 115),  # as floats, 50 * 2.3 is 114.99999999999999
        ("1.15", 10000, 115),
        ("0.0001", 10_000_000, 10),
    ],
)
def test_a_fractional_rate_is_computed_exactly(rate, total, points):
    assert evaluate(sale(total), program(points_per_currency_unit=rate)).points == points


def test_in_a_currency_without_minor_units_a_unit_is_a_whole_yen():
    yen = program(currency="JPY", points_per_currency_unit="0.01")  # 1 point per 100 yen

    assert evaluate(sale(1234, currency="JPY"), yen).points == 12


def test_excluded_categories_and_skus_earn_nothing():
    rules = program(excluded_categories=["gift_card", "tobacco"], excluded_skus=["PFAND"])
    receipt = sale(
        7225,
        line("COFFEE-1KG", 2, 1800, "coffee"),
        line("GIFT-50", 1, 2500, "gift_card"),
        line("CIGARS", 1, 1000, "tobacco"),
        line("PFAND", 5, 25, "drinks"),
    )

    assert evaluate(receipt, rules).points == 36  # only the coffee earns
    only_excluded = sale(2500, line("GIFT-50", 1, 2500, "gift_card"))
    assert lines_of(evaluate(only_excluded, rules)) == [("base rate", 0)]


def test_a_discount_on_the_receipt_is_shared_out_over_the_items():
    rules = program(excluded_categories=["gift_card"])
    # 36.00 of coffee and a 50.00 gift card, 10.00 off the receipt: 76.00 paid.
    receipt = sale(
        7600, line("COFFEE-1KG", 2, 1800, "coffee"), line("GIFT-50", 1, 5000, "gift_card")
    )

    # The coffee is 36/86 of the items, so 76.00 x 36/86 = 31.81 of the paid total earns.
    assert evaluate(receipt, rules).points == 31


def test_without_line_items_the_whole_total_earns():
    rules = program(excluded_categories=["gift_card"])

    assert evaluate(sale(4590), rules).points == 45


# 2. Tier


def test_a_tier_multiplier_adds_its_share_of_the_base():
    evaluation = evaluate(sale(4590), EURO_RATE, GOLD)

    # 45.90 + 22.95 = 68.85 points; the tier line is what it added to the rounded total.
    assert evaluation.points == 68
    assert lines_of(evaluation) == [("base rate", 45), ("Gold", 23)]
    assert evaluation.breakdown[1].rule == "tier"


def test_a_member_without_a_tier_earns_the_base_rate():
    member = Earner(segments=frozenset({"vip-evening"}))

    assert lines_of(evaluate(sale(4590), EURO_RATE, member)) == [("base rate", 45)]


# 3. Campaigns: each kind


def test_a_multiplier_campaign_multiplies_the_base():
    evaluation = evaluate(sale(4590), EURO_RATE, campaigns=[double_points()])

    assert evaluation.points == 91  # 2 x 45.90 = 91.80
    assert lines_of(evaluation) == [("base rate", 45), ("double points", 46)]
    line_ = evaluation.breakdown[1]
    assert (line_.rule, line_.kind, line_.campaign_id) == (
        "campaign",
        "multiplier",
        double_points().id,
    )


def test_a_bonus_points_campaign_adds_a_flat_bonus_once_per_purchase():
    evaluation = evaluate(sale(4590), EURO_RATE, campaigns=[bonus(50, "welcome back")])

    assert lines_of(evaluation) == [("base rate", 45), ("welcome back", 50)]
    assert evaluation.points == 95


def test_a_stamp_card_gives_one_stamp_per_visit_whatever_is_spent():
    stamps_only = program(points_per_currency_unit="0")
    stamp_card = campaign("coffee stamp card", "per_visit", points=1, channels=frozenset({"pos"}))

    visits = [
        evaluate(sale(total), stamps_only, campaigns=[stamp_card]).points
        for total in (120, 350, 4590)
    ]

    assert visits == [1, 1, 1]  # ten stamps buy a coffee
    web_order = evaluate(sale(4590, channel="web"), stamps_only, campaigns=[stamp_card])
    assert web_order.points == 0


def test_a_category_multiplier_multiplies_only_its_categories_share():
    triple_coffee = campaign(
        "triple coffee",
        "category_multiplier",
        multiplier=Decimal(3),
        categories=frozenset({"coffee"}),
    )
    # 36.00 of coffee and 9.90 of merch, 4.00 off: 41.90 paid, 32.86 of it for coffee.
    receipt = sale(4190, line("COFFEE-1KG", 2, 1800, "coffee"), line("MUG", 1, 990, "merch"))

    evaluation = evaluate(receipt, EURO_RATE, campaigns=[triple_coffee])

    # 41.90 + 2 x (41.90 x 36/45.90) = 41.90 + 65.73 = 107.63
    assert lines_of(evaluation) == [("base rate", 41), ("triple coffee", 66)]
    assert evaluation.points == 107


def test_a_category_multiplier_never_makes_excluded_items_earn():
    rules = program(excluded_categories=["gift_card"])
    gift_cards_x5 = campaign(
        "gift cards x5",
        "category_multiplier",
        multiplier=Decimal(5),
        categories=frozenset({"gift_card"}),
    )
    receipt = sale(5000, line("GIFT-50", 1, 5000, "gift_card"))

    assert evaluate(receipt, rules, campaigns=[gift_cards_x5]).points == 0


def test_an_sku_bonus_gives_points_per_unit_of_its_skus():
    mugs = campaign("mug bonus", "sku_bonus", points=25, skus=frozenset({"MUG", "MUG-XL"}))
    receipt = sale(
        5940,
        line("MUG", 2, 990),
        line("COFFEE-1KG", 1, 1800),
        line("MUG-XL", 1, 1170),
        line("MUG", 1, 990),  # a second line of the same SKU counts too
    )

    evaluation = evaluate(receipt, EURO_RATE, campaigns=[mugs])

    assert lines_of(evaluation) == [("base rate", 59), ("mug bonus", 100)]


def test_an_sku_bonus_on_a_receipt_without_its_skus_adds_nothing():
    mugs = campaign("mug bonus", "sku_bonus", points=25, skus=frozenset({"MUG"}))

    evaluation = evaluate(sale(1800, line("COFFEE-1KG", 1, 1800)), EURO_RATE, campaigns=[mugs])

    assert evaluation.points == 18
    assert lines_of(evaluation) == [("base rate", 18)]  # a campaign adding nothing is not listed


# 3. Campaigns: when they apply


def applies(rule: CampaignRule, receipt: Sale, earner: Earner | None = None) -> bool:
    return applied(evaluate(receipt, EURO_RATE, earner, [rule])) == [rule.name]


def test_a_campaign_without_conditions_applies_to_every_purchase_that_earns():
    assert applies(bonus(10), sale(1))
    assert applies(bonus(10), sale(100, channel="app", store_id="hamburg"), GOLD)
    assert not applies(bonus(10), sale(0)), "nothing bought, nothing to reward"


def test_excluded_items_neither_earn_nor_qualify_for_campaigns():
    rules = program(excluded_categories=["gift_card"], excluded_skus=["PFAND"])
    spend_50 = bonus(100, "spend 50", min_total=5000)
    stamp = campaign("stamp", "per_visit", points=1)
    deposit = campaign("deposit", "sku_bonus", points=5, skus=frozenset({"PFAND"}))
    gift_card_and_coffee = sale(
        6000, line("GIFT-50", 1, 5000, "gift_card"), line("COFFEE", 1, 1000), line("PFAND", 2, 0)
    )
    only_a_gift_card = sale(5000, line("GIFT-50", 1, 5000, "gift_card"))

    mixed = evaluate(gift_card_and_coffee, rules, campaigns=[spend_50, stamp, deposit])
    alone = evaluate(only_a_gift_card, rules, campaigns=[spend_50, stamp, deposit])

    assert applied(mixed) == ["stamp"]  # 10.00 eligible: not 50.00; no bonus on the deposit
    assert mixed.points == 10 + 1
    assert applied(alone) == []
    assert alone.points == 0


def test_a_window_includes_its_start_and_excludes_its_end_in_local_time():
    happy_hour = bonus(
        10, starts_at=datetime(2026, 6, 10, 17, 0), ends_at=datetime(2026, 6, 10, 18, 0)
    )
    tick = timedelta(microseconds=1)

    assert not applies(happy_hour, sale(1000, at=datetime(2026, 6, 10, 17, 0) - tick))
    assert applies(happy_hour, sale(1000, at=datetime(2026, 6, 10, 17, 0)))
    assert applies(happy_hour, sale(1000, at=datetime(2026, 6, 10, 18, 0) - tick))
    assert not applies(happy_hour, sale(1000, at=datetime(2026, 6, 10, 18, 0)))


def test_a_window_may_be_open_at_either_end():
    from_july = bonus(10, starts_at=datetime(2026, 7, 1))
    until_july = bonus(10, ends_at=datetime(2026, 7, 1))

    assert applies(from_july, sale(1000, at=datetime(2030, 1, 1)))
    assert not applies(from_july, sale(1000, at=datetime(2026, 6, 30, 23, 59)))
    assert applies(until_july, sale(1000, at=datetime(2020, 1, 1)))
    assert not applies(until_july, sale(1000, at=datetime(2026, 7, 1)))


def test_weekdays_are_iso_weekdays_of_the_local_date():
    weekend = double_points(weekdays=frozenset({6, 7}))  # Saturday and Sunday

    assert not applies(weekend, sale(1000, at=datetime(2026, 6, 12, 23, 59)))  # Friday
    assert applies(weekend, sale(1000, at=datetime(2026, 6, 13, 0, 0)))  # Saturday
    assert applies(weekend, sale(1000, at=datetime(2026, 6, 14, 23, 59)))  # Sunday
    assert not applies(weekend, sale(1000, at=datetime(2026, 6, 15, 0, 0)))  # Monday


def test_channels_limit_a_campaign_to_pos_web_or_app():
    app_only = double_points(channels=frozenset({"app"}))
    online = double_points(channels=frozenset({"web", "app"}))

    assert applies(app_only, sale(1000, channel="app"))
    assert not applies(app_only, sale(1000, channel="pos"))
    assert not applies(app_only, sale(1000, channel="web"))
    assert applies(online, sale(1000, channel="web"))
    assert not applies(online, sale(1000, channel="pos"))


def test_stores_limit_a_campaign_to_their_tills():
    opening = bonus(100, store_ids=frozenset({"berlin-mitte"}))

    assert applies(opening, sale(1000, store_id="berlin-mitte"))
    assert not applies(opening, sale(1000, store_id="hamburg"))
    assert not applies(opening, sale(1000, store_id=None))  # a web order has no store


def test_a_minimum_total_is_compared_with_the_paid_total():
    spend_50 = bonus(100, min_total=5000)
    receipt = [line("COFFEE-1KG", 3, 1800)]  # 54.00 of items

    assert applies(spend_50, sale(5000))
    assert not applies(spend_50, sale(4999))
    assert not applies(spend_50, sale(4860, *receipt))  # 10% off: 48.60 paid


def test_a_tier_limited_campaign_applies_only_to_members_in_those_tiers():
    gold_only = bonus(100, tier_ids=frozenset({GOLD_ID}))

    assert applies(gold_only, sale(1000), GOLD)
    assert not applies(gold_only, sale(1000), SILVER)
    assert not applies(gold_only, sale(1000), Earner())
    assert not applies(gold_only, sale(1000), None)  # a receipt without a member


def test_a_segment_campaign_applies_only_to_members_flagged_for_it():
    vip_evening = bonus(100, segment="vip-evening")

    assert applies(vip_evening, sale(1000), Earner(segments=frozenset({"vip-evening", "staff"})))
    assert not applies(vip_evening, sale(1000), Earner(segments=frozenset({"staff"})))
    assert not applies(vip_evening, sale(1000), Earner())
    assert not applies(vip_evening, sale(1000), None)


def test_every_condition_must_hold():
    saturday_app_gold = bonus(
        100,
        weekdays=frozenset({6}),
        channels=frozenset({"app"}),
        tier_ids=frozenset({GOLD_ID}),
        min_total=2000,
    )
    saturday = datetime(2026, 6, 13, 10, 0)

    assert applies(saturday_app_gold, sale(2000, channel="app", at=saturday), GOLD)
    assert not applies(saturday_app_gold, sale(2000, channel="pos", at=saturday), GOLD)
    assert not applies(saturday_app_gold, sale(2000, channel="app"), GOLD)  # a Wednesday
    assert not applies(saturday_app_gold, sale(1999, channel="app", at=saturday), GOLD)
    assert not applies(saturday_app_gold, sale(2000, channel="app", at=saturday), SILVER)


# 4. Stacking


def test_multipliers_add_double_points_for_gold_is_two_and_a_half_times():
    evaluation = evaluate(sale(10000), EURO_RATE, GOLD, [double_points()])

    assert evaluation.points == 250  # not 2 x 1.5 x 100 = 300
    assert lines_of(evaluation) == [("base rate", 100), ("Gold", 50), ("double points", 100)]


def test_two_multiplier_campaigns_add_up_too():
    triple = campaign("triple points", "multiplier", multiplier=Decimal(3))

    evaluation = evaluate(sale(10000), EURO_RATE, campaigns=[double_points(), triple])

    assert evaluation.points == 400  # 1 + 1 + 2 extra, not 2 x 3 = 6 times
    assert lines_of(evaluation) == [
        ("base rate", 100),
        ("double points", 100),
        ("triple points", 200),
    ]


def test_a_multiplier_multiplies_the_base_not_other_bonuses():
    evaluation = evaluate(sale(10000), EURO_RATE, campaigns=[bonus(50), double_points()])

    assert lines_of(evaluation) == [("base rate", 100), ("bonus", 50), ("double points", 100)]


def test_of_non_combinable_campaigns_only_the_one_adding_most_counts():
    double = double_points(combinable=False)  # adds 100
    flat = bonus(150, "flat 150", combinable=False)  # adds 150
    stamp = campaign("stamp card", "per_visit", points=1)  # combinable: always adds

    evaluation = evaluate(sale(10000), EURO_RATE, campaigns=[double, flat, stamp])

    assert lines_of(evaluation) == [("base rate", 100), ("flat 150", 150), ("stamp card", 1)]


def test_of_equally_good_non_combinable_campaigns_the_earlier_created_counts():
    first = bonus(50, "first", combinable=False)
    second = bonus(50, "second", combinable=False)

    assert applied(evaluate(sale(1000), EURO_RATE, campaigns=[first, second])) == ["first"]
    assert applied(evaluate(sale(1000), EURO_RATE, campaigns=[second, first])) == ["second"]


def test_a_non_combinable_campaign_that_does_not_apply_excludes_nothing():
    app_triple = campaign(
        "app triple",
        "multiplier",
        multiplier=Decimal(3),
        channels=frozenset({"app"}),
        combinable=False,
    )
    flat = bonus(20, "flat 20", combinable=False)

    evaluation = evaluate(sale(10000, channel="pos"), EURO_RATE, campaigns=[app_triple, flat])

    assert applied(evaluation) == ["flat 20"]


def test_non_combinable_campaigns_are_compared_after_their_caps():
    capped_triple = campaign(
        "capped triple",
        "multiplier",
        multiplier=Decimal(3),
        combinable=False,
        max_points_per_purchase=20,  # would add 200, may add 20
    )
    flat = bonus(50, "flat 50", combinable=False)

    evaluation = evaluate(sale(10000), EURO_RATE, campaigns=[capped_triple, flat])

    assert lines_of(evaluation) == [("base rate", 100), ("flat 50", 50)]


def test_the_tier_multiplier_is_never_excluded_by_a_non_combinable_campaign():
    evaluation = evaluate(sale(10000), EURO_RATE, GOLD, [double_points(combinable=False)])

    assert evaluation.points == 250


# 5. Caps


def test_a_cap_limits_what_one_campaign_adds_to_a_purchase():
    capped = double_points("double points up to 30", max_points_per_purchase=30)
    mugs = campaign("mugs", "sku_bonus", points=100, skus=frozenset({"MUG"}))
    mugs_capped = campaign(
        "mugs capped", "sku_bonus", points=100, skus=frozenset({"MUG"}), max_points_per_purchase=250
    )
    receipt = sale(10000, line("MUG", 5, 2000))

    evaluation = evaluate(receipt, EURO_RATE, campaigns=[capped, mugs, mugs_capped])

    assert lines_of(evaluation) == [
        ("base rate", 100),  # the base is never capped
        ("double points up to 30", 30),
        ("mugs", 500),  # no cap
        ("mugs capped", 250),
    ]


def test_a_cap_above_what_a_campaign_adds_changes_nothing():
    evaluation = evaluate(
        sale(4590), EURO_RATE, campaigns=[double_points(max_points_per_purchase=1000)]
    )

    assert evaluation.points == 91


def test_a_cap_of_zero_turns_a_campaign_into_a_no_op():
    evaluation = evaluate(sale(4590), EURO_RATE, campaigns=[bonus(50, max_points_per_purchase=0)])

    assert lines_of(evaluation) == [("base rate", 45)]


# 6. Rounding: exact fractions, rounded down once


def test_the_total_is_rounded_down_once_not_each_rule_on_its_own():
    one_per_ten_euros = program(points_per_currency_unit="0.1")

    evaluation = evaluate(sale(1999), one_per_ten_euros, GOLD)

    # 1.999 + 0.9995 = 2.9985 points: 2. Rounding each rule down would give 1 + 0 = 1.
    assert evaluation.points == 2
    assert lines_of(evaluation) == [("base rate", 1), ("Gold", 1)]


def test_breakdown_lines_are_the_steps_of_the_rounded_running_total():
    one_per_ten_euros = program(points_per_currency_unit="0.1")
    first = double_points("first double")
    second = double_points("second double")

    evaluation = evaluate(sale(500), one_per_ten_euros, campaigns=[first, second])

    # Running total 0.5, 1.0, 1.5; rounded down 0, 1, 1; the steps 0, 1, 0.
    assert lines_of(evaluation) == [("base rate", 0), ("first double", 1), ("second double", 0)]
    assert evaluation.points == 1


def test_double_points_and_gold_on_a_fractional_rate():
    one_per_ten_euros = program(points_per_currency_unit="0.1")

    evaluation = evaluate(sale(1999), one_per_ten_euros, GOLD, [double_points()])

    # 2.5 x 1.999 = 4.9975: 4 points (each rule rounded down alone: 1 + 0 + 1 = 2).
    assert evaluation.points == 4
    assert lines_of(evaluation) == [("base rate", 1), ("Gold", 1), ("double points", 2)]


def test_decimal_multipliers_are_exact():
    gold_115 = Earner(tier_id=GOLD_ID, tier_name="Gold", tier_multiplier=Decimal("1.15"))
    plus_15_percent = campaign("15% more", "multiplier", multiplier=Decimal("1.15"))

    # As floats, 100 x (1.15 - 1) is 14.999999999999991: 100.00 would earn 114.
    assert evaluate(sale(10000), EURO_RATE, gold_115).points == 115
    assert evaluate(sale(10000), EURO_RATE, campaigns=[plus_15_percent]).points == 115
    assert evaluate(sale(9000), program(points_per_currency_unit="0.7"), gold_115).points == 72


def test_exact_fractions_match_a_hand_computation():
    """Rate 0.3, Gold x1.15, 2 x 7.77 of coffee (excluded: 3.33 of tobacco), 1.00 off."""
    rules = program(points_per_currency_unit="0.3", excluded_categories=["tobacco"])
    gold = Earner(tier_id=GOLD_ID, tier_name="Gold", tier_multiplier=Decimal("1.15"))
    receipt = sale(1787, line("COFFEE", 2, 777, "coffee"), line("CIGS", 1, 333, "tobacco"))

    eligible = Fraction(1787 * 1554, 1887)
    expected = math.floor(eligible / 100 * Fraction(3, 10) * Fraction(115, 100))

    assert evaluate(receipt, rules, gold).points == expected == 5  # 5.077...


def test_points_and_lines_are_integers():
    evaluation = evaluate(
        sale(1999, line("A", 1, 1999, "coffee")),
        program(points_per_currency_unit="0.1"),
        GOLD,
        [double_points(), bonus(3)],
    )

    assert type(evaluation.points) is int
    assert all(type(line.points) is int for line in evaluation.breakdown)


# Invariants


SKUS = ("COFFEE-1KG", "MUG", "GIFT-50", "PFAND", "CROISSANT")
CATEGORIES = (None, "coffee", "merch", "gift_card", "bakery")
local_times = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31))
rates = st.decimals(min_value=0, max_value=100, places=4)
multipliers = st.decimals(min_value=1, max_value=10, places=4)
line_items = st.lists(
    st.builds(
        Line,
        sku=st.sampled_from(SKUS),
        category=st.sampled_from(CATEGORIES),
        quantity=st.integers(1, 5),
        unit_price=st.integers(0, 20_000),
    ),
    max_size=5,
)


@st.composite
def sales(draw: st.DrawFn) -> Sale:
    items = draw(line_items)
    # A discount on the receipt only ever lowers the total below the items' value.
    items_value = sum(item.value for item in items)
    return Sale(
        total=draw(st.integers(0, items_value if items else 1_000_000)),
        currency="EUR",
        channel=draw(st.sampled_from(["pos", "web", "app"])),
        store_id=draw(st.sampled_from([None, "berlin-mitte", "hamburg"])),
        lines=items,
        local_time=draw(local_times),
    )


@st.composite
def campaign_rules(draw: st.DrawFn) -> CampaignRule:
    kind = draw(st.sampled_from(CampaignKind))
    return CampaignRule(
        id=uuid.UUID(int=draw(st.integers(0, 2**64))),
        name=draw(st.sampled_from(["spring", "summer", "autumn", "winter"])),
        kind=kind,
        multiplier=draw(multipliers),
        points=draw(st.integers(1, 1000)),
        categories=frozenset(draw(st.sets(st.sampled_from(CATEGORIES[1:])))),
        skus=frozenset(draw(st.sets(st.sampled_from(SKUS)))),
        weekdays=frozenset(draw(st.sets(st.integers(1, 7)))),
        channels=frozenset(draw(st.sets(st.sampled_from(["pos", "web", "app"])))),
        min_total=draw(st.none() | st.integers(0, 100_000)),
        segment=draw(st.none() | st.just("vip")),
        starts_at=draw(st.none() | local_times),
        ends_at=draw(st.none() | local_times),
        combinable=draw(st.booleans()),
        max_points_per_purchase=draw(st.none() | st.integers(0, 500)),
    )


def campaign_lists(max_size: int) -> st.SearchStrategy[list[CampaignRule]]:
    return st.lists(campaign_rules(), max_size=max_size, unique_by=lambda rule: rule.id)


earners = st.none() | st.builds(
    Earner,
    tier_id=st.none() | st.just(GOLD_ID),
    tier_name=st.just("Gold"),
    tier_multiplier=multipliers,
    segments=st.frozensets(st.sampled_from(["vip", "staff"])),
)
programs = st.builds(
    ProgramSettings,
    points_per_currency_unit=rates,
    excluded_categories=st.lists(st.sampled_from(CATEGORIES[1:]), max_size=2),
    excluded_skus=st.lists(st.sampled_from(SKUS), max_size=2),
)


@given(sales(), programs, earners, campaign_lists(5))
def test_the_breakdown_always_sums_to_the_points(receipt, rules, earner, campaigns):
    evaluation = evaluate(receipt, rules, earner, campaigns)

    assert sum(line.points for line in evaluation.breakdown) == evaluation.points
    assert all(type(line.points) is int and line.points >= 0 for line in evaluation.breakdown)
    assert evaluation.breakdown[0].rule == "base"
    counted = [line.campaign_id for line in evaluation.breakdown if line.rule == "campaign"]
    assert counted == [c.id for c in campaigns if c.id in counted]  # in creation order
    assert sum(not c.combinable for c in campaigns if c.id in counted) <= 1


@given(sales(), rates)
def test_the_base_is_the_exact_product_rounded_down(receipt, rate):
    """Without exclusions: floor(total / 100 x rate), in integers only."""
    numerator, denominator = rate.as_integer_ratio()
    expected = receipt.total * numerator // (100 * denominator)

    assert evaluate(receipt, program(points_per_currency_unit=rate)).points == expected


@given(
    st.integers(0, 1_000_000),
    rates,
    st.none() | multipliers,
    st.lists(multipliers, max_size=3),
    st.lists(st.integers(1, 1000), max_size=3),
)
def test_points_are_the_exact_sum_of_every_rule_rounded_down_once(
    total, rate, tier_multiplier, campaign_multipliers, bonuses
):
    """base x (1 + (tier - 1) + each (multiplier - 1)) + bonuses, as one exact fraction."""
    earner = (
        None
        if tier_multiplier is None
        else Earner(tier_id=GOLD_ID, tier_name="Gold", tier_multiplier=tier_multiplier)
    )
    campaigns = [
        campaign(f"x{m} #{n}", "multiplier", multiplier=m)
        for n, m in enumerate(campaign_multipliers)
    ] + [bonus(points, f"+{points} #{n}") for n, points in enumerate(bonuses)]
    base = Fraction(total, 100) * Fraction(rate)
    factor = 1 + sum(Fraction(m) - 1 for m in [tier_multiplier or 1, *campaign_multipliers])

    evaluation = evaluate(sale(total), program(points_per_currency_unit=rate), earner, campaigns)

    # Nothing bought, nothing to reward: bonuses need an eligible total above zero.
    assert evaluation.points == math.floor(base * factor + (sum(bonuses) if total else 0))


@given(sales(), programs, earners, campaign_lists(5), st.randoms())
def test_an_evaluation_is_deterministic_whatever_the_order_of_the_items(
    receipt, rules, earner, campaigns, random
):
    shuffled = list(receipt.lines)
    random.shuffle(shuffled)
    reordered = Sale(
        receipt.total,
        receipt.currency,
        receipt.channel,
        receipt.store_id,
        shuffled,
        receipt.local_time,
    )

    first = evaluate(receipt, rules, earner, campaigns)

    assert evaluate(receipt, rules, earner, campaigns) == first
    assert evaluate(reordered, rules, earner, campaigns) == first


@given(
    sales(),
    programs,
    earners,
    campaign_lists(4),
    campaign_rules().map(lambda rule: replace(rule, combinable=True)),
)
def test_a_combinable_campaign_never_lowers_the_points(receipt, rules, earner, campaigns, extra):
    without = evaluate(receipt, rules, earner, campaigns).points

    assert evaluate(receipt, rules, earner, [*campaigns, extra]).points >= without
