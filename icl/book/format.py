"""Numbers as the book's prose writes them: lists joined with "and", thousands separated by a narrow
no-break space, powers of ten with a superscript."""

from __future__ import annotations

import math

__all__ = [
    "words",
    "count",
    "power_of_ten",
]


def words(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(x) for x in items]
    return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " and " + items[-1]


def count(n) -> str:
    """An integer with a narrow no-break space between thousands: 200 000."""
    return f"{int(n):,}".replace(",", "\u202f")


def power_of_ten(x) -> str:
    """10⁶ for 1e6 (a power of ten), else `count`."""
    k = math.log10(x)
    if x > 0 and abs(k - round(k)) < 1e-12:
        return "10" + str(int(round(k))).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return count(x)
