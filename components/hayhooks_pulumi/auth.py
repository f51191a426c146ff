"""Credential files that proxies read (htpasswd), built from hashes, never from plaintext."""

from __future__ import annotations

import base64
import hashlib
import re

# The hash forms proxies read: bcrypt ($2a$/$2b$/$2y$) and Envoy's {SHA}. Anything else could be plaintext.
_HASH = re.compile(r"^(\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}|\{SHA\}[A-Za-z0-9+/]{27}=)$")


def htpasswd_line(username: str, password_hash: str) -> str:
    """One htpasswd entry; nginx and Traefik accept bcrypt (`$2b$`/`$2y$`) hashes."""
    if not username or any(c in username for c in ":\r\n"):
        raise ValueError("a user name must be non-empty and cannot contain ':' or a line break")
    if not password_hash or any(c in password_hash for c in "\r\n"):
        # A line break would add a second, attacker-chosen entry to the file.
        raise ValueError("a password hash must be non-empty and cannot contain a line break")
    if not _HASH.match(password_hash):
        raise ValueError("not a bcrypt or {SHA} hash: htpasswd files never hold plaintext passwords")
    return f"{username}:{password_hash}\n"


def sha_hash(password: str) -> str:
    """`{SHA}` + base64(sha1), the only htpasswd hash Envoy Gateway's basicAuth accepts."""
    return "{SHA}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
