"""A scratch virtualenv per Hayhooks release, made once and cached outside any repository.

`make server-settings` reads each release's settings class in one (`server.generate`), and the tests start each
release's real server from one. A release is installed with the dependencies of its own day (`uv pip install
--exclude-newer <its upload time>`), as its image was built: an old release resolved against today's Haystack
does not import. `uv` (a dependency of the development requirements) installs from a shared cache, so a cold
set of releases takes seconds, not minutes; a warm one is only checked.

The cache is `$HAYHOOKS_RELEASES_CACHE`, else `~/.cache/hayhooks-pulumi/hayhooks-releases`, one folder per
release holding the venv and a marker written only once the install succeeded.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

CACHE_ENV = "HAYHOOKS_RELEASES_CACHE"
PACKAGE = "hayhooks"
# Written last: a folder without it is an install that did not finish, made again.
MARKER = ".installed.json"
INSTALL_TIMEOUT = 900
# The release's files are uploaded within seconds of each other; a dependency uploaded later cannot be its.
_UPLOAD_MARGIN = timedelta(minutes=10)


class ReleaseVenvError(RuntimeError):
    """A release could not be installed: says which and why."""


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "hayhooks-pulumi" / "hayhooks-releases"


def uv() -> str:
    """The `uv` installed beside this interpreter (`make setup`), else on PATH."""
    found = shutil.which("uv", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        raise ReleaseVenvError("uv is not installed: run `make setup` (requirements-dev.txt) or `pip install uv`")
    return found


def bin_dir(version: str) -> Path:
    return cache_root() / version / "venv" / "bin"


def python(version: str) -> Path:
    return bin_dir(version) / "python"


def installed(version: str) -> bool:
    return (cache_root() / version / MARKER).is_file()


def release_venv(version: str, uploaded: str) -> Path:
    """The bin folder of a venv holding `hayhooks==version` with the dependencies of `uploaded` (ISO 8601)."""
    folder = cache_root() / version
    folder.mkdir(parents=True, exist_ok=True)
    # A venv's scripts name its own path, so it is made where it stays, under a lock (a second process waits
    # for the first); the marker is written last, and a folder without it is an install that did not finish.
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed(version):
            return bin_dir(version)
        venv = folder / "venv"
        shutil.rmtree(venv, ignore_errors=True)
        _run([uv(), "venv", "--quiet", "--python", _base_python(), str(venv)], version)
        exclude_newer = (_parse_time(uploaded) + _UPLOAD_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")
        command = [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
        _run([*command, "--exclude-newer", exclude_newer, f"{PACKAGE}=={version}"], version)
        (folder / MARKER).write_text(json.dumps({"version": version, "excludeNewer": exclude_newer}) + "\n")
    return bin_dir(version)


def release_venvs(releases: Iterable[tuple[str, str]], workers: int = 3) -> dict[str, Path]:
    """Several `(version, uploaded)` at once (the downloads overlap); their bin folders by version."""
    pending = list(releases)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = pool.map(lambda item: release_venv(*item), pending)
        return {version: path for (version, _), path in zip(pending, done, strict=True)}


def _base_python() -> str:
    """The interpreter the venvs are made from: the one beneath this venv (its own `base_prefix`)."""
    candidate = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return str(candidate if candidate.exists() else sys.executable)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _run(argv: Sequence[str], version: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
    if result.returncode != 0:
        raise ReleaseVenvError(f"installing hayhooks {version} failed ({' '.join(argv)}):\n{result.stderr[-3000:]}")


# ---------------------------------------------------------------------------------------------------------------
# What the package index says of the releases (for `make server-settings` only; the tests read the table)

INDEX_URL = os.environ.get("HAYHOOKS_RELEASES_INDEX", "https://pypi.org/pypi")


def published_releases() -> dict[str, str]:
    """Every release of hayhooks on the index with the upload time of its last file, yanked ones left out."""
    with urllib.request.urlopen(f"{INDEX_URL}/{PACKAGE}/json", timeout=60) as response:
        data = json.load(response)
    releases: dict[str, str] = {}
    for version, files in data["releases"].items():
        live = [f for f in files if not f.get("yanked")]
        if live:
            releases[version] = max(f["upload_time_iso_8601"] for f in live)
    return releases
