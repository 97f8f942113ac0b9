"""How many points a purchase earns. Pure: plain values in, an integer out.

For now the programme's base rate only: floor(total in currency units * rate), computed
exactly with Decimal. The earning-rules work replaces this one function with rule evaluation.
"""

from decimal import ROUND_FLOOR

from app.program.currency import to_major_units
from app.program.schemas import ProgramSettings


def points_for_purchase(total_minor: int, currency: str, program: ProgramSettings) -> int:
    earned = to_major_units(total_minor, currency) * program.points_per_currency_unit
    return int(earned.to_integral_value(rounding=ROUND_FLOOR))
