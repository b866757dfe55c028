"""The text numbers of iclcert's files (docs/formats.md, "Numbers") as floats.

Exact rationals ("p/q") and MPFR decimals become the nearest double; an enclosure
["lo", "hi"] becomes (lo, hi) rounded outward, so that the float interval still
contains the enclosure (and hence the true value). None (an undefined ratio) is NaN
and "+inf" is infinity. The exact texts stay in each result's `.raw`.

Statistics (accuracies, means, seconds) may come as JSON numbers or as numeric
strings (older files wrote them as strings); both are accepted.
"""
from __future__ import annotations

import math
from fractions import Fraction


def exact(text: str) -> Fraction:
    """The exact rational value of a number text of iclcert ("p/q" or a decimal)."""
    return Fraction(text)


_SPECIAL = {"+inf": math.inf, "inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def nearest(text: str | float | None) -> float:
    """The nearest double of a number text (None: NaN)."""
    if text is None:
        return math.nan
    if isinstance(text, (int, float)):  # a JSON number (bool is an int: kept as 0/1)
        return float(text)
    if text in _SPECIAL:
        return _SPECIAL[text]
    return float(Fraction(text))  # correctly rounded, for "p/q" and decimals alike


def down(text: str | float | None) -> float:
    """The largest double <= the number (None: NaN)."""
    if text is None:
        return math.nan
    if isinstance(text, float) or text in _SPECIAL:
        return nearest(text)  # a double is its own exact value
    q = Fraction(text)
    f = float(q)
    return math.nextafter(f, -math.inf) if Fraction(f) > q else f


def up(text: str | float | None) -> float:
    """The smallest double >= the number (None: NaN)."""
    if text is None:
        return math.nan
    if isinstance(text, float) or text in _SPECIAL:
        return nearest(text)
    q = Fraction(text)
    f = float(q)
    return math.nextafter(f, math.inf) if Fraction(f) < q else f


def is_enclosure(value: object) -> bool:
    """Whether value is an enclosure ["lo", "hi"] of a file."""
    return isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
