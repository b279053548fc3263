"""Kubernetes resource quantities: exact parsing, canonical serialization, arithmetic.

A quantity is a fixed-point number with a suffix: ``100m``, ``1.5``, ``1Gi``, ``1e3``, ``5n``.
`parse_quantity` accepts exactly what Kubernetes' ``resource.ParseQuantity`` accepts, rejects the
rest with Kubernetes' error text, and keeps the value exact (a `decimal.Decimal`, never a float).
``str(q)`` is the string Kubernetes writes back on the wire:

* the suffix family of the input is kept: decimal SI (``m``, ``k``, ``M``, ...), binary SI
  (``Ki``, ``Mi``, ...) or decimal exponent (``e3``);
* the number is put in canonical form: no fractional digits, and the largest suffix that loses
  nothing (``1000m`` -> ``1``, ``0.5`` -> ``500m``, ``1024Mi`` -> ``1Gi``, ``1.5Gi`` -> ``1536Mi``);
* a binary value below 1024 in magnitude, or one that is not a whole number, is written in
  decimal SI (``0.5Ki`` -> ``512``);
* an input that is already canonical in Kubernetes' (quirky) sense is written back verbatim,
  sign and case included (``1e3`` stays ``1e3``, ``1E3`` stays ``1E3``, ``+1`` stays ``+1``).

Values are rounded away from zero to a multiple of 10^-9 (``0.1n`` is ``1n``), and binary
values are capped at 2^63-1, as Kubernetes does when parsing.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from enum import StrEnum
from functools import total_ordering

__all__ = [
    "FORMAT_ERROR",
    "NUMERIC_ERROR",
    "SUFFIX_ERROR",
    "Format",
    "Quantity",
    "QuantityError",
    "canonical",
    "cpu_millicores",
    "memory_bytes",
    "parse_quantity",
]

# Kubernetes' three parse errors, word for word.
FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
NUMERIC_ERROR = "unable to parse numeric part of quantity"
SUFFIX_ERROR = "unable to parse quantity's suffix"


class QuantityError(ValueError):
    """A string that is not a quantity; ``str(err)`` is Kubernetes' message."""


class Format(StrEnum):
    """The suffix family a quantity is written in (Kubernetes' names)."""

    DECIMAL_EXPONENT = "DecimalExponent"
    BINARY_SI = "BinarySI"
    DECIMAL_SI = "DecimalSI"


_DECIMAL_SUFFIXES: dict[str, int] = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}
_DECIMAL_BY_EXPONENT = {exp: suffix for suffix, exp in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES: dict[str, int] = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_BY_POWER = {exp // 10: suffix for suffix, exp in _BINARY_SUFFIXES.items()}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")

_INT64_MAX = (1 << 63) - 1
_MAX_BINARY = Decimal(_INT64_MAX)
_NANO = Decimal("1e-9")
# Kubernetes keeps a value in an int64 when it has at most this many digits.
_MAX_INT64_DIGITS = 18

# Exact arithmetic: values are finite decimals, so with unbounded precision nothing rounds.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, rounding=decimal.ROUND_UP
)


@total_ordering
class Quantity:
    """An exact quantity: `value` (a Decimal) and the suffix `format` it is written in.

    Immutable. Equality, ordering and hashing follow the value alone (``1Gi == 1024Mi``), as
    Kubernetes' ``Cmp`` does. ``str()`` gives the serialized form (see the module docstring).
    """

    __slots__ = ("_format", "_text", "_value")

    def __init__(self, value: Decimal | int, format: Format = Format.DECIMAL_SI, *, _text: str | None = None) -> None:
        self._value = Decimal(value)
        self._format = format
        # The input string when Kubernetes would write it back unchanged.
        self._text = _text

    @property
    def value(self) -> Decimal:
        """The exact value."""
        return self._value

    @property
    def format(self) -> Format:
        """The suffix family used when serializing."""
        return self._format

    # Construction -------------------------------------------------------------------------

    @classmethod
    def from_milli(cls, millis: int, format: Format = Format.DECIMAL_SI) -> Quantity:
        """The quantity `millis`/1000 (``from_milli(1500)`` is ``1500m``)."""
        return cls(Decimal(millis).scaleb(-3, _EXACT), format)

    # Serialization ------------------------------------------------------------------------

    def __str__(self) -> str:
        if self._text is not None:
            return self._text
        return _canonical_string(self._value, self._format)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    # Comparison and arithmetic ------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Quantity):
            return self._value == other._value
        return NotImplemented

    def __lt__(self, other: Quantity) -> bool:
        if isinstance(other, Quantity):
            return self._value < other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return not self._value.is_zero()

    def __neg__(self) -> Quantity:
        return Quantity(-self._value, self._format)

    def __add__(self, other: Quantity) -> Quantity:
        """The exact sum; a zero left operand takes the right one's format (as Kubernetes' Add)."""
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = other._format if self._value.is_zero() else self._format
        return Quantity(_EXACT.add(self._value, other._value), fmt)

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = other._format if self._value.is_zero() else self._format
        return Quantity(_EXACT.subtract(self._value, other._value), fmt)

    def cmp(self, other: Quantity) -> int:
        """-1, 0 or 1 as self is less than, equal to or greater than `other`."""
        return (self._value > other._value) - (self._value < other._value)

    # Scaled integer views -----------------------------------------------------------------

    def scaled_value(self, scale: int) -> int:
        """ceil(value / 10^scale), rounding away from zero like Kubernetes' ScaledValue, and
        saturated to the int64 range (so an absurd quantity cannot cost an absurd integer)."""
        scaled = self._value.scaleb(-scale, _EXACT)
        if not scaled.is_zero() and scaled.adjusted() > 18:
            limit = Decimal(_INT64_MAX)
            scaled = max(-limit, min(limit, scaled))
        return int(scaled.to_integral_value(rounding=decimal.ROUND_UP))

    def int_value(self) -> int:
        """The value rounded up to an integer (Kubernetes' ``Value()``): bytes for memory."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """The value in thousandths, rounded up (Kubernetes' ``MilliValue()``): millicores for cpu."""
        return self.scaled_value(-3)

    def round_up(self, scale: int) -> Quantity:
        """The value rounded away from zero to a multiple of 10^scale (Kubernetes' ``RoundUp``).

        Returns self when nothing is lost, so a verbatim input string survives, as in Kubernetes.
        """
        step = Decimal(1).scaleb(scale)
        if self._value.as_tuple().exponent >= scale:  # type: ignore[operator]
            return self
        rounded = self._value.quantize(step, rounding=decimal.ROUND_UP, context=_EXACT)
        if rounded == self._value:
            return self
        return Quantity(rounded, self._format)


# Parsing --------------------------------------------------------------------------------------


def _scan(text: str) -> tuple[bool, str, str, str, str]:
    """Split `text` into (positive, number text, integer digits, fraction digits, suffix).

    Follows Kubernetes' scanner, quirks included: leading zeros are dropped from the integer
    digits; a lone sign or ``.`` is a number (zero); the suffix is a run of suffix letters, an
    optional sign, then digits to the end.
    """
    end = len(text)
    pos = 0
    positive = True
    if text[0] in "+-":
        positive = text[0] == "+"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos == end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    if pos == end:
        return positive, text, num, "", ""
    denom = ""
    if text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
        if pos == end:
            return positive, text, num, denom, ""
    number = text[:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos != end:
        raise QuantityError(FORMAT_ERROR)
    return positive, number, num, denom, text[suffix_start:]


def _go_parse_int64(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 10, 64): optional sign, decimal digits, int64 range."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not all(c in _DIGITS for c in digits):
        return None
    value = int(text)
    if not -(1 << 63) <= value <= _INT64_MAX:
        return None
    return value


def _interpret(suffix: str) -> tuple[int, int, Format]:
    """(base, exponent, format) for a suffix, or QuantityError(SUFFIX_ERROR)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], Format.DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], Format.BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        parsed = _go_parse_int64(suffix[1:])
        if parsed is not None:
            # Kubernetes keeps the exponent in an int32, wrapping silently.
            exponent = (parsed + (1 << 31)) % (1 << 32) - (1 << 31)
            return 10, exponent, Format.DECIMAL_EXPONENT
    raise QuantityError(SUFFIX_ERROR)


def parse_quantity(raw: str | int | float | Quantity) -> Quantity:
    """Parse a quantity exactly as Kubernetes does.

    Accepts a string, or a JSON number as msgspec decodes it (an int or a float, read through its
    shortest repr). Raises `QuantityError` with Kubernetes' message for anything else.
    """
    if isinstance(raw, Quantity):
        return raw
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise QuantityError(FORMAT_ERROR)
    text = raw if isinstance(raw, str) else repr(raw)
    if not text:
        raise QuantityError(FORMAT_ERROR)
    if text == "0":
        return Quantity(Decimal(0), Format.DECIMAL_SI, _text="0")

    positive, number, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret(suffix)

    # The fast path: the value fits an int64 mantissa and a scale no finer than nano. Only on
    # this path does Kubernetes keep an already-canonical input string verbatim.
    mantissa = 1
    scale = 0
    if fmt is Format.BINARY_SI:
        if exponent >= 0 and not denom:
            mantissa = 1 << exponent
            precision = 15 - len(num) - exponent * 3 // 10 - 1
        else:
            precision = -1
    else:
        scale = exponent
        precision = _MAX_INT64_DIGITS - len(num) - len(denom)
    if precision >= 0:
        scale -= len(denom)
        if scale >= -9:
            shifted = num + denom
            magnitude = int(shifted) * mantissa
            if magnitude <= _INT64_MAX:
                result = Decimal(magnitude if positive else -magnitude).scaleb(scale, _EXACT)
                if fmt is Format.BINARY_SI:
                    verbatim = int(shifted) & 0x07 != 0
                else:
                    verbatim = scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"
                return Quantity(result, fmt, _text=text if verbatim else None)

    try:
        amount = Decimal(number)
    except decimal.InvalidOperation:
        raise QuantityError(NUMERIC_ERROR) from None
    if not any(c in _DIGITS for c in number):
        raise QuantityError(NUMERIC_ERROR)
    if base == 10:
        amount = amount.scaleb(exponent, _EXACT)
    else:
        amount = _EXACT.multiply(amount, Decimal(1 << exponent))
    negative = amount.is_signed()
    amount = abs(amount)
    if not amount.is_zero() and amount.as_tuple().exponent < -9:  # type: ignore[operator]
        # Round non-zero values up to the smallest representable amount, as Kubernetes does.
        amount = amount.quantize(_NANO, rounding=decimal.ROUND_UP, context=_EXACT)
    if fmt is Format.BINARY_SI:
        if amount > _MAX_BINARY:
            amount = _MAX_BINARY
        if Decimal(0) < amount < Decimal(1):
            fmt = Format.DECIMAL_SI
    if negative:
        amount = -amount
    return Quantity(amount, fmt)


# Serialization ---------------------------------------------------------------------------------


def _base10_mantissa(value: Decimal) -> tuple[int, int]:
    """(mantissa, exponent) with value = mantissa * 10^exponent, no trailing zeros beyond what
    makes the exponent a multiple of 3 (rounded down), like Kubernetes' AsCanonicalBytes."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    mantissa = int("".join(map(str, digits)))
    while mantissa and mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    shift = exponent % 3
    mantissa *= 10**shift
    exponent -= shift
    return (-mantissa if sign else mantissa), exponent


def _canonical_string(value: Decimal, fmt: Format) -> str:
    if value.is_zero():
        return "0"
    if fmt is Format.BINARY_SI:
        if -1024 < value < 1024 or value != value.to_integral_value():
            fmt = Format.DECIMAL_SI
        else:
            amount = int(value)
            power = 0
            # Capped at 2^63-1 on parse, so at most six factors of 1024 (Ei) come out.
            while amount % 1024 == 0:
                amount //= 1024
                power += 1
            return f"{amount}{_BINARY_BY_POWER.get(power, '')}"
    mantissa, exponent = _base10_mantissa(value)
    if fmt is Format.DECIMAL_SI and exponent in _DECIMAL_BY_EXPONENT:
        return f"{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"
    # Decimal exponent form; also the form of decimal SI values past the suffix table
    # (beyond 10^18), which Kubernetes writes this way since kubernetes/kubernetes#140459.
    return f"{mantissa}e{exponent}" if exponent else str(mantissa)


# Helpers --------------------------------------------------------------------------------------


def canonical(raw: str | int | float) -> str:
    """The string Kubernetes writes back for the quantity `raw` (raises QuantityError)."""
    return str(parse_quantity(raw))


def cpu_millicores(raw: str | int | float | Quantity) -> int:
    """A cpu quantity in millicores, rounded up (``"100m"`` -> 100, ``"1.5"`` -> 1500)."""
    return parse_quantity(raw).milli_value()


def memory_bytes(raw: str | int | float | Quantity) -> int:
    """A memory or storage quantity in bytes, rounded up (``"1Gi"`` -> 1073741824)."""
    return parse_quantity(raw).int_value()
