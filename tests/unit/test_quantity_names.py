"""Kubernetes quantities and the names Kubernetes accepts (DNS labels, label keys and values, env names)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hayhooks_pulumi.quantity import parse_quantity
from hayhooks_pulumi.server.env import UserEnvName
from hayhooks_pulumi.types import DnsLabel, Labels, dns_label, env_name, labels
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

# --------------------------------------------------------------------------------------------
# Quantities
# --------------------------------------------------------------------------------------------

# Suffix -> factor, written out from the Kubernetes docs (decimal: powers of 1000; binary: of 1024).
DECIMAL = {"k": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5, "E": 1000**6}
BINARY = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("100m", Decimal("0.1")),
        ("1m", Decimal("0.001")),
        ("2", Decimal(2)),
        ("0", Decimal(0)),
        ("1.5", Decimal("1.5")),
        ("0.25", Decimal("0.25")),
        ("1k", Decimal(1000)),
        ("1Ki", Decimal(1024)),
        ("512Mi", Decimal(512 * 1024 * 1024)),
        ("2Gi", Decimal(2 * 1024**3)),
        ("1.5Gi", Decimal(1610612736)),
        ("1G", Decimal(10**9)),
        ("3T", Decimal(3 * 10**12)),
        ("1Ei", Decimal(2**60)),
        ("1E", Decimal(10**18)),
    ],
)
def test_quantity_value(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


def test_quantities_compare_across_units() -> None:
    assert parse_quantity("1000m") == parse_quantity("1")
    assert parse_quantity("1024Mi") == parse_quantity("1Gi")
    assert parse_quantity("1Gi") > parse_quantity("1G")
    assert parse_quantity("1M") < parse_quantity("1Mi")
    assert parse_quantity("1500m") > parse_quantity("1")
    assert parse_quantity("2Gi") > parse_quantity("1536Mi")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1 Gi",
        " 1",
        "1Gi ",
        "1\n",
        "500m\n",
        "1gi",
        "1GB",
        "1KB",
        "1K",
        "1mi",
        "-1",
        "+1",
        "1.5.5",
        ".5",
        "abc",
        "Gi",
        "1Gi1",
        "١",  # an Arabic-Indic digit: \d would take it, Kubernetes does not
    ],
)
def test_malformed_quantities_are_refused_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match="is not a quantity") as caught:
        parse_quantity(text)
    assert "500m" in str(caught.value)
    assert "2Gi" in str(caught.value)


@given(st.integers(0, 10**6), st.sampled_from(sorted({**DECIMAL, **BINARY})))
def test_a_whole_number_with_a_suffix_is_number_times_factor(number: int, suffix: str) -> None:
    assert parse_quantity(f"{number}{suffix}") == number * {**DECIMAL, **BINARY}[suffix]


@given(st.integers(0, 10**9))
def test_millis_are_thousandths(number: int) -> None:
    assert parse_quantity(f"{number}m") * 1000 == number
    assert parse_quantity(f"{number}m") == parse_quantity(str(number)) / 1000


@given(st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False))
def test_a_plain_decimal_is_its_own_value(number: Decimal) -> None:
    text = f"{number:f}"
    assert parse_quantity(text) == number


@given(st.one_of(st.text(max_size=12), st.from_regex(r"[0-9.+-]{1,6}[A-Za-z]{0,2}\s?", fullmatch=True)))
def test_an_accepted_quantity_is_taken_only_as_written(text: str) -> None:
    # What the API server would refuse later must be refused here: a sign, or space or a newline around it.
    try:
        value = parse_quantity(text)
    except ValueError:
        return
    assert value >= 0
    for changed in (f"{text}\n", f" {text}", f"{text} ", f"-{text}", f"+{text}"):
        with pytest.raises(ValueError, match="is not a quantity"):
            parse_quantity(changed)


# --------------------------------------------------------------------------------------------
# DNS labels (RFC 1035: what Kubernetes requires of Service and namespace names)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hayhooks", "a", "a1", "hay-hooks", "a--b", "x" * 63, "h" + "0" * 62])
def test_dns_label_accepted(name: str) -> None:
    assert dns_label(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "Hayhooks", "1hayhooks", "-a", "a-", "a_b", "a.b", "a b", "x" * 64, "abc\n", "äbc", "hay\thooks", "a/b"],
)
def test_dns_label_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a DNS label") as caught:
        dns_label(name)
    assert "63" in str(caught.value)


@given(st.text(st.characters(codec="ascii"), max_size=70) | st.from_regex(r"[a-z][-a-z0-9]{0,70}", fullmatch=True))
def test_an_accepted_dns_label_fits_rfc_1035(name: str) -> None:
    try:
        dns_label(name)
    except ValueError:
        ok = 1 <= len(name) <= 63 and name[0].isalpha() and name[-1] != "-"
        assert not (ok and set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-"))
    else:
        assert 1 <= len(name) <= 63
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
        assert name[0] in "abcdefghijklmnopqrstuvwxyz"
        assert name[-1] != "-"


def test_dns_label_as_a_pydantic_type() -> None:
    adapter = TypeAdapter(DnsLabel)
    assert adapter.validate_python("hayhooks") == "hayhooks"
    with pytest.raises(ValidationError, match="is not a DNS label"):
        adapter.validate_python("Hayhooks")


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------


def test_labels_accepted_and_sorted_by_key() -> None:
    given_labels = {
        "team": "search",
        "app.kubernetes.io/name": "hayhooks",
        "example.com/Owner_Name": "A_b.c-1",
        "empty": "",
        "k" * 63: "v" * 63,
        ("p" * 63 + ".") * 3 + "p" * 61 + "/name": "x",  # prefix of 253 characters
    }
    result = labels(given_labels)
    assert result == given_labels
    assert list(result) == sorted(given_labels)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/name",
        "Example.com/name",  # the prefix is a lowercase DNS subdomain
        "a/b/c",
        "example.com/",
        "-name",
        "name-",
        "na me",
        "k" * 64,
        ("p" * 63 + ".") * 3 + "p" * 62 + "/name",  # prefix of 254 characters
        "name\n",
        "example.com/name\n",
    ],
)
def test_label_key_refused(key: str) -> None:
    with pytest.raises(ValueError, match="is not a valid label key"):
        labels({key: "value"})


@pytest.mark.parametrize("value", ["-a", "a-", "_a", "a.", "a b", "a/b", "v" * 64, "a\n", "ä"])
def test_label_value_refused_naming_the_label(value: str) -> None:
    with pytest.raises(ValueError, match=r"is not a valid label value") as caught:
        labels({"app.kubernetes.io/version": value})
    assert "app.kubernetes.io/version" in str(caught.value)


_LABEL_VALUE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@given(st.text(max_size=70) | st.from_regex(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,66}", fullmatch=True))
def test_an_accepted_label_value_fits_kubernetes_rules(value: str) -> None:
    try:
        labels({"k": value})
    except ValueError:
        valid = (
            len(value) <= 63
            and set(value) <= _LABEL_VALUE_CHARS
            and (value == "" or (value[0].isalnum() and value[-1].isalnum()))
        )
        assert not valid
    else:
        assert len(value) <= 63
        assert set(value) <= _LABEL_VALUE_CHARS
        assert value == "" or (value[0] not in "-_." and value[-1] not in "-_.")


def test_labels_as_a_pydantic_type() -> None:
    adapter = TypeAdapter(Labels)
    assert list(adapter.validate_python({"b": "1", "a": "2"})) == ["a", "b"]
    with pytest.raises(ValidationError):
        adapter.validate_python({"a": "-"})


# --------------------------------------------------------------------------------------------
# Environment variable names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["FOO", "_x", "a1", "OPENAI_API_KEY", "_", "x" * 200])
def test_env_name_accepted(name: str) -> None:
    assert env_name(name) == name


@pytest.mark.parametrize("name", ["", "1A", "A-B", "A B", "A.B", "A\n", "É", "A=B", "$A"])
def test_env_name_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a valid environment variable name"):
        env_name(name)


@given(st.text(max_size=12) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True))
def test_an_accepted_env_name_is_portable(name: str) -> None:
    # POSIX's portable names (letters, digits and '_', not starting with a digit) are Python's ASCII identifiers.
    try:
        env_name(name)
    except ValueError:
        assert not (name.isascii() and name.isidentifier())
    else:
        assert name.isascii() and name.isidentifier()


def test_env_name_as_a_pydantic_type() -> None:
    # The one type for a name a user may set (extraEnv, secrets of both targets) checks this syntax first.
    adapter = TypeAdapter(UserEnvName)
    assert adapter.validate_python("FOO") == "FOO"
    with pytest.raises(ValidationError):
        adapter.validate_python("FOO\n")
