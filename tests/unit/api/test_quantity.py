"""Quantities: values, canonical strings and errors as Kubernetes' resource.Quantity has them.

Expected strings come from Kubernetes' own quantity tests and documentation; values are also
checked against the `kubernetes` Python client's parse_quantity, an independent parser.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes.utils.quantity import parse_quantity as client_parse

from kube_lite.api.quantity import (
    FORMAT_ERROR,
    NUMERIC_ERROR,
    SUFFIX_ERROR,
    Format,
    Quantity,
    QuantityError,
    canonical,
    cpu_millicores,
    memory_bytes,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", "0.1"),
        ("1.5", "1.5"),
        ("1Gi", str(1 << 30)),
        ("500Mi", str(500 << 20)),
        ("1e3", "1000"),
        ("1E3", "1000"),
        ("+1", "1"),
        (".5", "0.5"),
        ("5n", "0.000000005"),
        ("5u", "0.000005"),
        ("1k", "1000"),
        ("1M", "1000000"),
        ("1G", "1000000000"),
        ("1T", "1000000000000"),
        ("1P", "1000000000000000"),
        ("1E", "1000000000000000000"),
        ("1Ki", "1024"),
        ("1Mi", str(1 << 20)),
        ("1Ti", str(1 << 40)),
        ("1Pi", str(1 << 50)),
        ("1Ei", str(1 << 60)),
        ("1E-3", "0.001"),
        ("1.3E+6", "1300000"),
        ("100.035k", "100035"),
        ("0.0005k", "0.5"),
        ("1.", "1"),
        ("1.G", "1000000000"),
        (".001", "0.001"),
        ("-1.5", "-1.5"),
        # rounded up to nano, as Kubernetes does
        ("3.001n", "0.000000004"),
        ("0.0000000001", "0.000000001"),
        ("0.00000012345", "0.000000124"),
        ("1.1E-9", "0.000000002"),
        # binary values are capped at 2^63-1
        ("9Ei", str((1 << 63) - 1)),
        ("9223372036854775807Ki", str((1 << 63) - 1)),
        ("0", "0"),
        ("0Ki", "0"),
        ("-0", "0"),
    ],
)
def test_values(text: str, value: str) -> None:
    assert parse_quantity(text).value == Decimal(value)


@pytest.mark.parametrize(
    ("text", "serialized"),
    [
        # the cases from the brief and Kubernetes' documentation
        ("1000m", "1"),
        ("1024Mi", "1Gi"),
        ("0.5", "500m"),
        ("1e3", "1e3"),
        ("1.5", "1500m"),
        ("1.5Gi", "1536Mi"),
        # Kubernetes' TestQuantityParseEmit
        ("1Ki", "1Ki"),
        ("1Mi", "1Mi"),
        ("1000M", "1G"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        # Kubernetes' TestQuantityString alternates
        ("307200Ki", "300Mi"),
        ("1025024Mi", "1001Gi"),
        ("1024Gi", "1Ti"),
        ("5000m", "5"),
        ("0.001T", "1G"),
        ("1000u", "1m"),
        ("1.08", "1080m"),
        ("1080000000n", "1080m"),
        (".001e12", "1e9"),
        ("0.001e0", "1e-3"),
        ("1000e-12", "1e-9"),
        ("00", "0"),
        # canonical strings are kept
        ("300Mi", "300Mi"),
        ("6Ki", "6Ki"),
        ("80m", "80m"),
        ("1234567M", "1234567M"),
        ("80e-3", "80e-3"),
        ("300e6", "300e6"),
        ("1080n", "1080n"),
        ("1E", "1E"),
        ("12E", "12E"),
        ("10E", "10E"),
        # input strings Kubernetes writes back verbatim (sign and case included)
        ("1E3", "1E3"),
        ("+1", "+1"),
        ("1.G", "1.G"),
        ("8Ki", "8Ki"),  # 8 is a multiple of 8, so not verbatim, but canonical anyway
        # exponent forms that are not canonical
        ("1e2", "100"),
        ("1.5e3", "1500"),
        ("1000e0", "1e3"),
        # binary below 1024 or fractional is written in decimal SI
        ("0.5Ki", "512"),
        ("0.5Mi", "512Ki"),
        ("100.035Ki", "102435840m"),
        ("1025Ki", "1025Ki"),
        ("2048Ki", "2Mi"),
        # Kubernetes' TestParseQuantity canonical forms at the int64 edges
        ("1.0E", "1E"),
        ("1000000000000000000", "1E"),
        ("10000000000000000000000m", "10E"),
        ("1.0000000000000000001E", "1000000000000000000100m"),
        ("9999999999999999999.1", "9999999999999999999100m"),
        ("-1.0E", "-1E"),
        # past the last SI suffix: decimal exponent (kubernetes/kubernetes#140459)
        ("1000E", "1e21"),
        ("-1.5", "-1500m"),
        ("-1024Mi", "-1Gi"),
    ],
)
def test_canonical_strings(text: str, serialized: str) -> None:
    assert canonical(text) == serialized
    # the canonical form is stable
    assert canonical(serialized) == serialized


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", FORMAT_ERROR),
        ("1.1.M", FORMAT_ERROR),
        ("1+1.0M", FORMAT_ERROR),
        ("0.1am", FORMAT_ERROR),
        ("aoeu", FORMAT_ERROR),
        (" 1", FORMAT_ERROR),
        ("1 ", FORMAT_ERROR),
        ("1e3.5", FORMAT_ERROR),
        ("0.1mi", SUFFIX_ERROR),
        (".5i", SUFFIX_ERROR),
        ("1i", SUFFIX_ERROR),
        ("-3.01i", SUFFIX_ERROR),
        ("-3.01e-", SUFFIX_ERROR),
        ("1e", SUFFIX_ERROR),
        ("1K", SUFFIX_ERROR),
        ("1Kb", FORMAT_ERROR),
        ("1ki", SUFFIX_ERROR),
        ("1ee3", SUFFIX_ERROR),
        (".e-20", NUMERIC_ERROR),
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert str(info.value) == message


@pytest.mark.parametrize("text", [".", "+", "-.", "Gi", "m"])
def test_scanner_quirks_parse_as_zero(text: str) -> None:
    # Kubernetes' scanner takes a missing number as zero; the regex in its message is looser
    # documentation, not the check.
    assert parse_quantity(text).value == 0
    assert canonical(text) == "0"


def test_error_message_is_kubernetes_text() -> None:
    assert FORMAT_ERROR == (
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def test_formats() -> None:
    assert parse_quantity("1Gi").format is Format.BINARY_SI
    assert parse_quantity("1G").format is Format.DECIMAL_SI
    assert parse_quantity("1e9").format is Format.DECIMAL_EXPONENT
    # a fractional binary amount below one is decimal
    assert parse_quantity("0.000000000001Ki").format is Format.DECIMAL_SI


def test_json_numbers() -> None:
    assert canonical(1) == "1"
    assert canonical(0.5) == "500m"
    assert canonical(2048) == "2048"
    with pytest.raises(QuantityError):
        parse_quantity(True)


def test_compare_and_add() -> None:
    assert parse_quantity("1Gi") == parse_quantity("1024Mi")
    assert parse_quantity("1G") < parse_quantity("1Gi")
    assert parse_quantity("500m") > parse_quantity("0.4")
    assert parse_quantity("1").cmp(parse_quantity("1000m")) == 0
    assert hash(parse_quantity("1Gi")) == hash(parse_quantity("1024Mi"))
    total = parse_quantity("100m") + parse_quantity("1.5")
    assert str(total) == "1600m"
    assert str(parse_quantity("1Gi") + parse_quantity("512Mi")) == "1536Mi"
    # a zero left operand takes the other's format, as in Kubernetes
    assert str(Quantity(0) + parse_quantity("1Mi")) == "1Mi"
    assert str(parse_quantity("1Gi") - parse_quantity("1Gi")) == "0"
    assert str(-parse_quantity("1Gi")) == "-1Gi"
    assert str(Quantity.from_milli(1500)) == "1500m"
    assert not Quantity(0)


def test_scaled_values() -> None:
    assert cpu_millicores("100m") == 100
    assert cpu_millicores("1.5") == 1500
    assert cpu_millicores("2") == 2000
    assert cpu_millicores("1u") == 1  # rounded up
    assert memory_bytes("1Gi") == 1 << 30
    assert memory_bytes("1.5k") == 1500
    assert memory_bytes("100m") == 1  # rounded up
    assert parse_quantity("-1.5").int_value() == -2  # away from zero
    # saturated, as Kubernetes' int64 views are, however large the quantity
    assert memory_bytes("1e2000000000") == (1 << 63) - 1
    assert cpu_millicores("-1e30") == -((1 << 63) - 1)


def test_round_up_keeps_verbatim_strings() -> None:
    q = parse_quantity("+1")
    assert q.round_up(-3) is q
    assert str(parse_quantity("100u").round_up(-3)) == "1m"
    assert str(parse_quantity("1.0001").round_up(-3)) == "1001m"


# Differential: the kubernetes client's parser on generated valid quantities ------------------

_DECIMAL_SCALES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


@st.composite
def valid_quantities(draw: st.DrawFn) -> str:
    """Well-formed quantities whose value is a multiple of 10^-9 (so Kubernetes does not round)
    and small enough that neither parser caps or loses digits."""
    sign = draw(st.sampled_from(["", "+", "-"]))
    integer = draw(st.integers(min_value=0, max_value=10**9))
    kind = draw(st.sampled_from(["decimal", "binary", "exponent"]))
    if kind == "decimal":
        suffix = draw(st.sampled_from(sorted(_DECIMAL_SCALES)))
        max_fraction = min(6, 9 + _DECIMAL_SCALES[suffix])
    elif kind == "binary":
        suffix = draw(st.sampled_from(["Ki", "Mi", "Gi", "Ti"]))
        integer %= 10**6  # stay below the 2^63-1 cap
        max_fraction = 0
    else:
        letter = draw(st.sampled_from(["e", "E"]))
        exponent = draw(st.integers(min_value=-3, max_value=9))
        esign = "+" if exponent >= 0 and draw(st.booleans()) else ""
        suffix = f"{letter}{esign}{exponent}"
        max_fraction = min(6, 9 + exponent)
    fraction_digits = draw(st.integers(min_value=0, max_value=max(0, max_fraction)))
    fraction = ""
    if fraction_digits:
        fraction = "." + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=fraction_digits, max_size=fraction_digits)))
    whole = str(integer) if fraction == "" or draw(st.booleans()) else ""
    if whole == "" and fraction == "":
        whole = "0"
    return f"{sign}{whole}{fraction}{suffix}"


@settings(max_examples=300, deadline=None)
@given(valid_quantities())
def test_value_matches_kubernetes_client(text: str) -> None:
    assert parse_quantity(text).value == client_parse(text)


@settings(max_examples=200, deadline=None)
@given(valid_quantities())
def test_canonical_round_trips(text: str) -> None:
    q = parse_quantity(text)
    again = parse_quantity(str(q))
    assert again == q
    assert str(again) == str(q)


@pytest.mark.parametrize(
    "text", ["", "abc", "1.1.M", "0.1mi", "1i", "1Kb", "1ki", "1e3.5", "1GiB", "--1", "1..5", "1Mii"]
)
def test_invalid_rejected_by_both(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)
    with pytest.raises(ValueError):
        client_parse(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.+-eEinumkKMGTPx ", max_size=8))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        q = parse_quantity(text)
    except QuantityError as err:
        assert str(err) in (FORMAT_ERROR, NUMERIC_ERROR, SUFFIX_ERROR)
    else:
        assert parse_quantity(str(q)) == q
