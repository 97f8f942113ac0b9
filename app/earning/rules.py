"""How many points a purchase earns, and which rule gave how many. Pure: plain values in.

The rules, in order:
1. Base: the purchase total in currency units times the programme's rate. Items in excluded
   categories or with excluded SKUs earn nothing; when line items are given, the eligible
   share of the total is the eligible items' share of the items' value, so a discount on the
   receipt is shared out proportionally.
2. Tier: the member's tier multiplier adds (multiplier - 1) x base.
3. Campaigns that apply (window, weekday, channel, store, minimum total, tier, segment,
   ABC class):
   `multiplier` adds (multiplier - 1) x base; `category_multiplier` adds (multiplier - 1) x
   the base of its categories' items; `bonus_points` and `per_visit` add their points;
   `sku_bonus` adds its points per unit of its SKUs. Excluded items neither earn nor qualify:
   the minimum total counts only the eligible share, a receipt of excluded items only meets
   no campaign, and excluded SKUs get no SKU bonus. Each campaign's addition is capped by its
   `max_points_per_purchase`. Multipliers add up rather than multiply: double points for a
   Gold member (x1.5) is 2.5 x base, not 3 x.
   Campaigns marked not combinable exclude each other: of those that apply, only the one
   adding the most counts (the earlier created on a tie); combinable campaigns always add.

Rounding, the one rule: every contribution is computed exactly (fractions, never floats) and
the purchase's total is rounded down once. Each breakdown line is what its rule added to the
rounded-down running total, so the lines always sum to the points earned.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from app.campaigns.models import CampaignKind
from app.program.currency import minor_unit_exponent
from app.program.schemas import ProgramSettings


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    category: str | None
    quantity: int
    unit_price: int

    @property
    def value(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class Sale:
    total: int
    currency: str
    channel: str
    store_id: str | None
    lines: Sequence[Line]
    local_time: datetime  # naive, the programme's wall-clock time of the sale


@dataclass(frozen=True, slots=True)
class Earner:
    tier_id: UUID | None = None
    tier_name: str | None = None
    tier_multiplier: Decimal = Decimal(1)
    segments: frozenset[str] = frozenset()
    abc_class: str | None = None  # as the classification job last stored it


@dataclass(frozen=True, slots=True)
class CampaignRule:
    id: UUID
    name: str
    kind: CampaignKind
    multiplier: Decimal | None = None
    points: int | None = None
    categories: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    starts_at: datetime | None = None  # naive local
    ends_at: datetime | None = None  # naive local, exclusive
    weekdays: frozenset[int] = frozenset()  # ISO: 1 = Monday
    channels: frozenset[str] = frozenset()
    store_ids: frozenset[str] = frozenset()
    min_total: int | None = None
    tier_ids: frozenset[UUID] = frozenset()
    segment: str | None = None
    abc_classes: frozenset[str] = frozenset()
    combinable: bool = True
    max_points_per_purchase: int | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    rule: str  # "base", "tier" or "campaign"
    name: str
    points: int
    campaign_id: UUID | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    points: int
    breakdown: list[Contribution] = field(default_factory=list)


def _major(amount_minor: Fraction, currency: str) -> Fraction:
    return amount_minor / Fraction(10 ** minor_unit_exponent(currency))


def _share_of_total(sale: Sale, lines: Sequence[Line]) -> Fraction:
    """The part of the paid total that ``lines`` account for (proportional to item value)."""
    items_value = sum(line.value for line in sale.lines)
    if items_value == 0:
        return Fraction(0)
    return Fraction(sale.total * sum(line.value for line in lines), items_value)


def _eligible_lines(sale: Sale, program: ProgramSettings) -> list[Line]:
    excluded_categories = set(program.excluded_categories)
    excluded_skus = set(program.excluded_skus)
    return [
        line
        for line in sale.lines
        if line.sku not in excluded_skus and line.category not in excluded_categories
    ]


def eligible_total(sale: Sale, program: ProgramSettings) -> Fraction:
    """The part of the paid total, in minor units, that earns and qualifies."""
    if not sale.lines:
        return Fraction(sale.total)
    return _share_of_total(sale, _eligible_lines(sale, program))


def base_points(sale: Sale, program: ProgramSettings) -> Fraction:
    """Exact base points of the eligible part of the sale."""
    return _major(eligible_total(sale, program), sale.currency) * Fraction(
        program.points_per_currency_unit
    )


def applies(campaign: CampaignRule, sale: Sale, earner: Earner | None, eligible: Fraction) -> bool:
    """Whether a campaign's conditions hold for this sale (of which ``eligible`` counts)."""
    checks = (
        eligible > 0,
        campaign.starts_at is None or campaign.starts_at <= sale.local_time,
        campaign.ends_at is None or sale.local_time < campaign.ends_at,
        not campaign.weekdays or sale.local_time.isoweekday() in campaign.weekdays,
        not campaign.channels or sale.channel in campaign.channels,
        not campaign.store_ids or sale.store_id in campaign.store_ids,
        campaign.min_total is None or eligible >= campaign.min_total,
        not campaign.tier_ids or (earner is not None and earner.tier_id in campaign.tier_ids),
        campaign.segment is None or (earner is not None and campaign.segment in earner.segments),
        not campaign.abc_classes
        or (earner is not None and earner.abc_class in campaign.abc_classes),
    )
    return all(checks)


def campaign_points(
    campaign: CampaignRule, sale: Sale, program: ProgramSettings, base: Fraction
) -> Fraction:
    """What a campaign adds to an applying sale, exactly, before rounding; capped."""
    extra: Fraction
    if campaign.kind is CampaignKind.multiplier:
        extra = base * (Fraction(campaign.multiplier or 1) - 1)
    elif campaign.kind is CampaignKind.category_multiplier:
        lines = [
            line for line in _eligible_lines(sale, program) if line.category in campaign.categories
        ]
        category_base = _major(_share_of_total(sale, lines), sale.currency) * Fraction(
            program.points_per_currency_unit
        )
        extra = category_base * (Fraction(campaign.multiplier or 1) - 1)
    elif campaign.kind in (CampaignKind.bonus_points, CampaignKind.per_visit):
        extra = Fraction(campaign.points or 0)
    else:  # sku_bonus
        units = sum(
            line.quantity for line in _eligible_lines(sale, program) if line.sku in campaign.skus
        )
        extra = Fraction((campaign.points or 0) * units)
    if campaign.max_points_per_purchase is not None:
        extra = min(extra, Fraction(campaign.max_points_per_purchase))
    return max(extra, Fraction(0))


def evaluate(
    sale: Sale,
    program: ProgramSettings,
    earner: Earner | None = None,
    campaigns: Sequence[CampaignRule] = (),
) -> Evaluation:
    """The points a sale earns and each rule's share of them (see the module's rules)."""
    base = base_points(sale, program)
    exact: list[tuple[Contribution, Fraction]] = [(Contribution("base", "base rate", 0), base)]
    if earner is not None and earner.tier_id is not None and earner.tier_multiplier != 1:
        tier_extra = base * (Fraction(earner.tier_multiplier) - 1)
        exact.append((Contribution("tier", earner.tier_name or "tier", 0), tier_extra))
    exact += [
        (
            Contribution("campaign", campaign.name, 0, campaign.id, campaign.kind.value),
            points,
        )
        for campaign, points in _counting_campaigns(sale, program, earner, campaigns, base)
    ]
    breakdown: list[Contribution] = []
    running = Fraction(0)
    rounded_so_far = 0
    for contribution, points in exact:
        running += points
        rounded = math.floor(running)
        breakdown.append(
            Contribution(
                contribution.rule,
                contribution.name,
                rounded - rounded_so_far,
                contribution.campaign_id,
                contribution.kind,
            )
        )
        rounded_so_far = rounded
    return Evaluation(points=max(rounded_so_far, 0), breakdown=breakdown)


def _counting_campaigns(
    sale: Sale,
    program: ProgramSettings,
    earner: Earner | None,
    campaigns: Sequence[CampaignRule],
    base: Fraction,
) -> list[tuple[CampaignRule, Fraction]]:
    """The applying campaigns that add something, with what each adds, in the given
    (creation) order; of the non-combinable ones only the one adding most."""
    eligible = eligible_total(sale, program)
    applying = [
        (campaign, points)
        for campaign in campaigns
        if applies(campaign, sale, earner, eligible)
        and (points := campaign_points(campaign, sale, program, base)) > 0
    ]
    exclusive = [(c, p) for c, p in applying if not c.combinable]
    best = max(exclusive, key=lambda pair: pair[1], default=None)  # first of equals wins
    return [(c, p) for c, p in applying if c.combinable or (best is not None and c is best[0])]
