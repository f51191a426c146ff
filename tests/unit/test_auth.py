"""htpasswd entries that nginx/Traefik (bcrypt) and Envoy Gateway ({SHA}) verify, and no injected entries."""

from __future__ import annotations

import base64
import hashlib

import bcrypt
import pytest
from hayhooks_pulumi.auth import htpasswd_line, sha_hash
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st


def _entries(text: str) -> dict[str, str]:
    """Parse an htpasswd file the way servers do: one `user:hash` per LF-ended line, split at the first ':'."""
    assert text.endswith("\n")
    entries = {}
    for line in text[:-1].split("\n"):
        user, sep, hashed = line.partition(":")
        assert sep, f"line without ':' {line!r}"
        entries[user] = hashed
    return entries


# --------------------------------------------------------------------------------------------
# bcrypt (nginx auth-secret key `auth`, Traefik basicAuth key `users`)
# --------------------------------------------------------------------------------------------


def test_a_bcrypt_line_verifies_the_password() -> None:
    hashed = bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt()).decode()
    line = htpasswd_line("alice", hashed)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    entries = _entries(line)
    assert list(entries) == ["alice"]
    assert bcrypt.checkpw(b"correct horse battery staple", entries["alice"].encode())
    assert not bcrypt.checkpw(b"correct horse battery stapler", entries["alice"].encode())


def test_lines_concatenate_into_a_file_with_one_entry_each() -> None:
    passwords = {"alice": b"pw-a", "bob": b"pw-b", "carol.smith@example.com": b"pw-c"}
    text = "".join(
        htpasswd_line(user, bcrypt.hashpw(pw, bcrypt.gensalt(rounds=4)).decode()) for user, pw in passwords.items()
    )
    entries = _entries(text)
    assert list(entries) == list(passwords)
    for user, password in passwords.items():
        assert bcrypt.checkpw(password, entries[user].encode())
        for other, other_password in passwords.items():
            if other != user:
                assert not bcrypt.checkpw(other_password, entries[user].encode())


def test_a_2y_hash_is_kept_as_given() -> None:
    # Apache's htpasswd writes $2y$; nginx and Traefik accept it as bcrypt.
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)
    entries = _entries(htpasswd_line("alice", hashed))
    assert entries["alice"] == hashed
    assert bcrypt.checkpw(b"pw", entries["alice"].encode())


@hyp_settings(max_examples=25, deadline=None)
@given(
    st.text(st.characters(blacklist_characters=":\r\n", blacklist_categories=["Cs"]), min_size=1, max_size=20),
    st.binary(min_size=1, max_size=40).filter(lambda pw: b"\0" not in pw),
)
def test_any_user_and_password_verify(user: str, password: bytes) -> None:
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds=4)).decode()
    entries = _entries(htpasswd_line(user, hashed))
    assert list(entries) == [user]
    assert bcrypt.checkpw(password, entries[user].encode())


@pytest.mark.parametrize("user", ["", "al:ice", "alice\n", "alice\r", "ali\nmallory", "a\r\nb"])
def test_a_user_that_breaks_the_file_is_refused(user: str) -> None:
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    with pytest.raises(ValueError, match="user name"):
        htpasswd_line(user, hashed)


@pytest.mark.parametrize("suffix", ["\nmallory:", "\r\nmallory:", "\rmallory:", "\n"])
def test_a_hash_that_would_inject_an_entry_is_refused(suffix: str) -> None:
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    with pytest.raises(ValueError, match="line break"):
        htpasswd_line("alice", hashed + suffix + hashed)


def test_an_empty_hash_is_refused() -> None:
    # An empty hash would be an entry that no password (or, for some servers, any) matches.
    with pytest.raises(ValueError, match="non-empty"):
        htpasswd_line("alice", "")


# --------------------------------------------------------------------------------------------
# {SHA} (Envoy Gateway basicAuth, key `.htpasswd`)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        # Apache's documented `htpasswd -s` example, and SHA-1 test vectors (FIPS 180) in base64.
        ("password", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
        ("", "{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk="),  # da39a3ee5e6b4b0d3255bfef95601890afd80709
        ("abc", "{SHA}qZk+NkcGgWq6PiVxeFDCbJzQ2J0="),  # a9993e364706816aba3e25717850c26c9cd0d89d
    ],
)
def test_sha_hash_known_vectors(password: str, expected: str) -> None:
    assert sha_hash(password) == expected


@given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_sha_hash_is_base64_of_the_sha1_of_the_utf8_password(password: str) -> None:
    hashed = sha_hash(password)
    assert hashed.startswith("{SHA}")
    digest = base64.b64decode(hashed.removeprefix("{SHA}"), validate=True)
    assert len(digest) == 20
    assert digest == hashlib.sha1(password.encode("utf-8")).digest()
    assert sha_hash(password + "x") != hashed


def test_a_sha_line_is_one_entry_that_envoy_can_compare() -> None:
    entries = _entries(htpasswd_line("svc", sha_hash("s3cret")))
    assert entries == {"svc": sha_hash("s3cret")}
    assert entries["svc"] != sha_hash("s3cret ")


@pytest.mark.parametrize("value", ["hunter2", "$2b$12$short", "{SHA}notbase64", "$1$salt$md5crypt"])
def test_a_plaintext_or_unknown_hash_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="never hold plaintext"):
        htpasswd_line("user", value)
