"""Exact arithmetic and input validation shared by the VN_AQI and US EPA AQI calculations.

Why exact arithmetic
--------------------
Concentrations arrive as binary floats.  ``55.7`` is not exactly 55.7, and ordinary float arithmetic can turn an
index that is exactly ``x.5`` on paper into ``x.4999...``, which would then round the wrong way (the classic
``round(2.675, 2) == 2.67`` surprise).  Every concentration is therefore converted to a :class:`fractions.Fraction`
from its shortest decimal representation (``repr``), i.e. the number the data source wrote, and every later step
(means, NowCast, unit conversion, truncation, interpolation, rounding) is exact.  Floats only appear again in the
public results.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

__all__ = [
    "HALF",
    "check_concentration",
    "check_keys",
    "check_series",
    "exact",
    "interpolate",
    "max_rolling_mean",
    "mean_if_enough",
    "round_half_up",
    "round_half_up_to",
    "truncate",
]

HALF = Fraction(1, 2)

Series = list[Fraction | None]


def exact(value: float | int | Fraction) -> Fraction:
    """The exact rational value of ``value``; a float is read through its shortest decimal ``repr``."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return Fraction(repr(float(value)))


def round_half_up(value: float | int | Fraction) -> int:
    """Round to the nearest integer, halves upwards: 109.5 -> 110, 2.5 -> 3 (Python's ``round`` gives 2).

    The value is taken exactly (see :func:`exact`), so 100.49999999999999 produced by float noise never occurs:
    callers pass exact fractions.
    """
    return math.floor(exact(value) + HALF)


def round_half_up_to(value: float | int | Fraction, ndigits: int) -> float:
    """Round half up to ``ndigits`` decimals, exactly: ``round_half_up_to(2.675, 2) == 2.68`` (``round`` gives 2.67)."""
    if ndigits < 0:
        raise ValueError(f"ndigits must be >= 0, got {ndigits}")
    scale = 10**ndigits
    return float(Fraction(math.floor(exact(value) * scale + HALF), scale))


def truncate(value: Fraction, decimals: int) -> Fraction:
    """Truncate a non-negative value to ``decimals`` decimals (EPA: "truncate, do not round")."""
    scale = 10**decimals
    return Fraction(math.floor(value * scale), scale)


def interpolate(c: Fraction, c_lo: Fraction, c_hi: Fraction, i_lo: int, i_hi: int) -> Fraction:
    """The AQI interpolation formula ``(I_hi - I_lo) / (BP_hi - BP_lo) * (C - BP_lo) + I_lo``, exactly."""
    return Fraction(i_hi - i_lo) / (c_hi - c_lo) * (c - c_lo) + i_lo


def check_concentration(label: str, value: object) -> Fraction:
    """Validate one concentration (finite, non-negative real number) and return it exactly.

    Raises :class:`ValueError` naming ``label`` for anything else: NaN, infinities, negatives, booleans, strings.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{label}: expected a concentration as a number, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{label}: {value!r} is not a valid concentration (must be finite)")
    if value < 0:
        raise ValueError(f"{label}: negative concentration {value!r}")
    return exact(value)


def check_series(
    label: str,
    values: object,
    *,
    max_len: int | None = None,
    lengths: Iterable[int] | None = None,
) -> Series:
    """Validate a sequence of hourly means (``None`` = missing hour) and return it exactly.

    ``max_len`` bounds the length; ``lengths`` lists the only lengths accepted.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise ValueError(f"{label}: expected a sequence of hourly means, got {type(values).__name__}")
    if max_len is not None and len(values) > max_len:
        raise ValueError(f"{label}: at most {max_len} hourly means expected, got {len(values)}")
    if lengths is not None:
        allowed = tuple(lengths)
        if len(values) not in allowed:
            wanted = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{label}: expected {wanted} hourly means, got {len(values)}")
    return [None if v is None else check_concentration(f"{label}[{i}]", v) for i, v in enumerate(values)]


def check_keys(mapping: object, allowed: Sequence[str], what: str) -> Mapping[str, object]:
    """Check that ``mapping`` is a mapping whose keys are all in ``allowed``; return it."""
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{what}: expected a mapping of parameter -> values, got {type(mapping).__name__}")
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise ValueError(
            f"{what}: unknown parameter(s) {', '.join(repr(k) for k in unknown)}; expected any of {', '.join(allowed)}"
        )
    return mapping


def mean_if_enough(values: Sequence[Fraction | None], min_valid: int) -> Fraction | None:
    """Arithmetic mean of the present values, or ``None`` when fewer than ``min_valid`` are present."""
    present = [v for v in values if v is not None]
    if not present or len(present) < min_valid:
        return None
    return sum(present, Fraction(0)) / len(present)


def max_rolling_mean(values: Sequence[Fraction | None], window: int, min_valid: int) -> Fraction | None:
    """Largest mean over every run of ``window`` consecutive values having at least ``min_valid`` present.

    Only windows lying entirely inside ``values`` are considered; ``None`` when no window qualifies.
    """
    if not 1 <= min_valid <= window:
        raise ValueError(f"min_valid must be between 1 and {window}, got {min_valid}")
    best: Fraction | None = None
    for start in range(len(values) - window + 1):
        m = mean_if_enough(values[start : start + window], min_valid)
        if m is not None and (best is None or m > best):
            best = m
    return best
