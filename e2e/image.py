"""The Hayhooks image the real-container tests run, built here and cached by its versions.

    python3 e2e/image.py build      build it if the cache lacks it; print its folder
    python3 e2e/image.py describe   what the cache holds (versions, digest, size)

No registry can be reached from these machines, so deepset's image cannot be pulled. This rebuilds it
following its recipe (deepset-ai/hayhooks `docker/Dockerfile`): Debian's Python, a virtualenv in `/opt/venv`
with `hayhooks==<version>` from PyPI, byte-compiled as pip leaves it, `/opt/venv/bin` first on PATH, the same
environment (`PYTHONUNBUFFERED`, `PYTHONDONTWRITEBYTECODE`, `HAYHOOKS_PIPELINES_DIR=/opt/pipelines`,
`HAYHOOKS_ADDITIONAL_PYTHON_PATH=/opt/custom_components`), port 1416 exposed, `hayhooks run --host 0.0.0.0`
as its command, running as root (no USER) and without curl, as deepset's is. What differs: the base is Debian
bookworm's minimal system and its python3 (deepset's is the python:3.12-slim based `deepset/haystack:base`
image), and its labels say it is a local rebuild, not deepset's image.

The root filesystem comes from `debootstrap --variant=minbase` and pip in a chroot; the image is one layer, a
tar with sorted names, zeroed times and owners, gzip without a timestamp, so its digest depends on its
contents only. It is written as an OCI-layout folder (`oci/`); `e2e/registry.py` serves it by that digest
to the Docker engine and containerd. Standard library only; needs root (chroot) and debootstrap.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions.env"
REPOSITORY = "hayhooks"  # the name it is served under: <registry>/hayhooks@sha256:<digest>
RECIPE = "2"  # bump when the recipe below changes: a new cache key
BASE_RECIPE = "1"  # bump when the base system's recipe (`_base`) changes: debootstrap runs again
LOCAL_REBUILD_LABEL = "dev.hayhooks-pulumi.local-rebuild"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hayhooks-pulumi" / "images"
MIRROR_FALLBACK = "http://deb.debian.org/debian"

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
# What deepset's Dockerfile sets, in its order.
ENVIRONMENT = {
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "HAYHOOKS_PIPELINES_DIR": "/opt/pipelines",
    "HAYHOOKS_ADDITIONAL_PYTHON_PATH": "/opt/custom_components",
    "PATH": "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}
COMMAND = ["hayhooks", "run", "--host", "0.0.0.0"]
# The host's pip settings that reach the pip in the chroot (where to find packages, how to get there).
PASSED_ENV = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
PASSED_ENV += tuple(name.lower() for name in PASSED_ENV if name.endswith("PROXY"))
# Left out of the image: caches and documentation nothing in it reads.
PRUNED = ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info", "root/.cache")


class ImageError(RuntimeError):
    pass


def versions() -> dict[str, str]:
    """What the image is built from: the Debian suite (e2e/versions.env) and the Hayhooks release the tests pin
    (requirements-dev.txt, the one home of that version)."""
    lines = VERSIONS.read_text().splitlines()
    asked = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    pins = (HERE.parent / "requirements-dev.txt").read_text().splitlines()
    [hayhooks] = [line.split("==", 1)[1].strip() for line in pins if line.startswith("hayhooks==")]
    return {**asked, "HAYHOOKS_VERSION": hayhooks}


@dataclass(frozen=True)
class Image:
    """One built image in the cache: its OCI layout and what it is."""

    root: Path

    @property
    def layout(self) -> Path:
        return self.root / "oci"

    @property
    def meta(self) -> dict[str, str]:
        return dict(json.loads((self.root / "image.json").read_text()))

    @property
    def digest(self) -> str:
        """The manifest's digest: what a stack names the image by (`<registry>/hayhooks@<digest>`)."""
        return self.meta["digest"]

    @property
    def tag(self) -> str:
        return self.meta["tag"]

    @property
    def name(self) -> str:
        """The repository it is served under: `<registry>/<name>@<digest>`."""
        return self.meta["name"]

    def blobs(self) -> Iterator[tuple[str, Path]]:
        for path in sorted((self.layout / "blobs" / "sha256").iterdir()):
            yield f"sha256:{path.name}", path

    def manifest(self) -> bytes:
        return (self.layout / "blobs" / "sha256" / self.digest.split(":", 1)[1]).read_bytes()


def describe(built: Image) -> str:
    """One line for a test's output: what the image is, and that it is a local rebuild."""
    meta = built.meta
    return f"hayhooks {meta['hayhooks']} on Debian {meta['debian']} (LOCAL REBUILD of deepset's recipe, {built.digest})"


def cache_key(hayhooks: str, suite: str) -> str:
    return hashlib.sha256(f"{hayhooks}\n{suite}\n{RECIPE}".encode()).hexdigest()[:16]


def cached(cache: Path = DEFAULT_CACHE) -> Image | None:
    asked = versions()
    root = cache / cache_key(asked["HAYHOOKS_VERSION"], asked["IMAGE_DEBIAN_SUITE"])
    return Image(root) if (root / "image.json").is_file() else None


def _mirror() -> str:
    """The Debian mirror apt uses here (its deb822 or one-line sources), else Debian's own."""
    sources = [*Path("/etc/apt/sources.list.d").glob("*.sources"), Path("/etc/apt/sources.list")]
    for path in sources:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            line = line.strip()
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
            if line.startswith("deb ") and "security" not in line:
                return line.split()[1] if not line.split()[1].startswith("[") else line.split()[2]
    return MIRROR_FALLBACK


def _run(*command: str, what: str, timeout: float = 900) -> None:
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise ImageError(f"{what} failed ({result.returncode}): {' '.join(command)}\n{result.stderr[-3000:]}")
    print(f"image: {what} took {time.monotonic() - started:.0f} s", file=sys.stderr)


@contextlib.contextmanager
def _chroot_mounts(rootfs: Path) -> Iterator[None]:
    """/proc, and a /dev of its own (a tmpfs with the few device nodes pip reads), inside the chroot while pip
    runs; unmounted whatever happens. Never the host's /dev: a tree removed with a host mount in it would
    take the host's device nodes with it."""
    mounted: list[Path] = []
    try:
        subprocess.run(["mount", "-t", "proc", "proc", str(rootfs / "proc")], check=True)
        mounted.append(rootfs / "proc")
        dev = rootfs / "dev"
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,size=1m", "tmpfs", str(dev)], check=True)
        mounted.append(dev)
        for name, minor in (("null", 3), ("zero", 5), ("random", 8), ("urandom", 9)):
            os.mknod(dev / name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
            os.chmod(dev / name, 0o666)
        yield
    finally:
        for path in reversed(mounted):
            subprocess.run(["umount", str(path)], check=False)
        left = [m for m in mounted if os.path.ismount(m)]
        if left:
            raise ImageError(f"could not unmount {left}: unmount them before removing {rootfs}")


def _base(work: Path, suite: str, cache: Path) -> Path:
    """Debian's minimal system with python3, from debootstrap once per suite and recipe, then from its tar."""
    rootfs = work / "rootfs"
    base = cache / f"base-{suite}-{BASE_RECIPE}.tar"
    if not base.is_file():
        if shutil.which("debootstrap") is None:
            raise ImageError("debootstrap is missing: apt-get install debootstrap (make test installs it as root)")
        _run(
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            suite,
            str(rootfs),
            _mirror(),
            what=f"debootstrap {suite}",
        )
        partial = base.with_suffix(".partial")
        _run("tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), ".", what="saving the base system")
        partial.rename(base)
        return rootfs
    rootfs.mkdir()
    _run("tar", "-C", str(rootfs), "--numeric-owner", "-xpf", str(base), what="unpacking the base system")
    return rootfs


def _host_ca_bundle() -> Path:
    """The CA bundle this machine's own pip trusts (an egress proxy's CA may be in it, not in Debian's)."""
    candidates = (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ImageError("no CA bundle found for pip (set PIP_CERT)")


def _rootfs(work: Path, hayhooks: str, suite: str, cache: Path) -> Path:
    if os.geteuid() != 0:
        raise ImageError("building the image needs root (debootstrap and chroot)")
    rootfs = _base(work, suite, cache)
    shutil.copy("/etc/resolv.conf", rootfs / "etc/resolv.conf")
    shutil.copy(_host_ca_bundle(), rootfs / "tmp/build-ca.crt")
    with _chroot_mounts(rootfs):
        venv = ("/usr/bin/python3", "-m", "venv", "--system-site-packages", "/opt/venv")
        _run("chroot", str(rootfs), *venv, what="venv")
        # A clean environment: the host's CA variables name its own bundle's path, which in the chroot is
        # Debian's; only the package index settings and proxies pass through.
        passed = [f"{k}={v}" for k, v in os.environ.items() if k in PASSED_ENV]
        _run(
            "chroot",
            str(rootfs),
            "/usr/bin/env",
            "-i",
            "PATH=/usr/bin:/bin",
            "HOME=/root",
            "PIP_CERT=/tmp/build-ca.crt",
            *passed,
            "/opt/venv/bin/pip",
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            f"hayhooks=={hayhooks}",
            what=f"pip install hayhooks=={hayhooks}",
        )
    (rootfs / "tmp/build-ca.crt").unlink()
    (rootfs / "etc/resolv.conf").write_text("")  # the runtime mounts its own
    for relative in PRUNED:
        path = rootfs / relative
        if path.is_dir():
            shutil.rmtree(path)
            path.mkdir()
    _byte_compiled(rootfs)
    for node in (rootfs / "dev").iterdir():  # the runtime gives the container its own /dev
        if node.is_dir() and not node.is_symlink():
            shutil.rmtree(node)
        else:
            node.unlink()
    for folder in ("opt/pipelines", "opt/custom_components"):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    return rootfs


def _byte_compiled(rootfs: Path) -> None:
    """The image's Python code byte-compiled, as in deepset's image: its `pip install .` compiles what it
    installs (`PYTHONDONTWRITEBYTECODE` only stops the interpreter writing at run time), as Debian's python3
    packages compile the standard library. pip and Debian write timestamp-based files, which would make the
    digest differ per build: they are replaced by hash-based ones (`--invalidation-mode checked-hash`), the same
    bytes in every build (two compilations compared: identical). compileall fails the build if a file does not
    compile, where pip would go on: a new release that ships such a file is seen at once. Without the files every
    start of the server compiles its imports again: 3 s of CPU instead of 1."""
    for folder, dirs, _ in os.walk(rootfs):
        if "__pycache__" in dirs:
            shutil.rmtree(Path(folder) / "__pycache__")
            dirs.remove("__pycache__")
    compileall = ("/usr/bin/python3", "-m", "compileall", "-q", "--invalidation-mode", "checked-hash")
    env = ("/usr/bin/env", "-i", "PATH=/usr/bin:/bin")
    # Debian's standard library and packages (/usr/lib/python3*), and the virtualenv pip installed into.
    trees = [f"/{path.relative_to(rootfs)}" for path in sorted((rootfs / "usr/lib").glob("python3*"))]
    _run("chroot", str(rootfs), *env, *compileall, *trees, "/opt/venv/lib", what="byte-compiling")


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _layer(rootfs: Path, out: Path) -> tuple[str, str]:
    """A reproducible gzip'd tar of the root filesystem: (digest of the gzip, digest of the tar)."""
    raw = out.with_suffix(".tar")
    entries = []
    for folder, dirs, files in os.walk(rootfs):  # symlinks to folders are entries, never followed
        base = Path(folder).relative_to(rootfs)
        entries += [(base / name).as_posix() for name in (*dirs, *files)]
    with tarfile.open(raw, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            tar.add(rootfs / name, arcname=name, recursive=False, filter=_reset)
    diff_id = _sha256(raw)
    with (
        raw.open("rb") as source,
        out.open("wb") as target,
        gzip.GzipFile(fileobj=target, mode="wb", compresslevel=1, mtime=0, filename="") as zipped,
    ):
        shutil.copyfileobj(source, zipped, 1 << 20)
    raw.unlink()
    return _sha256(out), diff_id


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
    return digest, len(data)


def _write_image(root: Path, work: Path, files: Path, config: dict[str, Any], meta: dict[str, str]) -> Image:
    """An OCI layout of one layer (the folder `files`) and `config`, moved into `root` when complete."""
    layout = work / "oci"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    layer_file = work / "layer.gz"
    layer_digest, diff_id = _layer(files, layer_file)
    layer_size = layer_file.stat().st_size
    layer_file.rename(layout / "blobs" / "sha256" / layer_digest.split(":", 1)[1])
    epoch = "1970-01-01T00:00:00Z"
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": epoch,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": epoch, "created_by": f"e2e/image.py (recipe {RECIPE})"}],
    }
    config_digest, config_size = _blob(layout, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": LAYER_TYPE, "digest": layer_digest, "size": layer_size}],
    }
    digest, size = _blob(layout, json.dumps(manifest, sort_keys=True).encode())
    index = {"schemaVersion": 2, "manifests": [{"mediaType": MANIFEST_TYPE, "digest": digest, "size": size}]}
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    meta = {**meta, "digest": digest, "layer_bytes": str(layer_size), "recipe": RECIPE}
    (work / "image.json").write_text(json.dumps(meta, indent=1))
    root.mkdir(parents=True)
    layout.rename(root / "oci")
    (work / "image.json").rename(root / "image.json")
    return Image(root)


def build(cache: Path = DEFAULT_CACHE) -> Image:
    """The Hayhooks image for the versions asked, from the cache or built now."""
    found = cached(cache)
    if found is not None:
        return found
    asked = versions()
    hayhooks, suite = asked["HAYHOOKS_VERSION"], asked["IMAGE_DEBIAN_SUITE"]
    cache.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache, prefix="building-") as scratch:
        work = Path(scratch)
        rootfs = _rootfs(work, hayhooks, suite, cache)
        description = (
            f"LOCAL REBUILD of deepset/hayhooks:v{hayhooks} for the hayhooks-pulumi tests, from Debian {suite} and "
            "PyPI following deepset's docker/Dockerfile; not deepset's image"
        )
        labels = {
            "org.opencontainers.image.title": REPOSITORY,
            "org.opencontainers.image.version": hayhooks,
            "org.opencontainers.image.description": description,
            LOCAL_REBUILD_LABEL: "true",
        }
        config = {
            "Env": [f"{k}={v}" for k, v in ENVIRONMENT.items()],
            "Cmd": COMMAND,
            "ExposedPorts": {"1416/tcp": {}},
            "Labels": labels,
        }
        meta = {"name": REPOSITORY, "tag": f"v{hayhooks}", "hayhooks": hayhooks, "debian": suite}
        image = _write_image(cache / cache_key(hayhooks, suite), work, rootfs, config, meta)
        print(f"image: {REPOSITORY} v{hayhooks} built in {time.monotonic() - started:.0f} s", file=sys.stderr)
        return image


def build_pause(cache: Path = DEFAULT_CACHE) -> Image:
    """The pod sandbox image of the local node: e2e/pause.c built static with gcc, as `/pause`."""
    source = HERE / "pause.c"
    key = hashlib.sha256(source.read_bytes() + RECIPE.encode()).hexdigest()[:16]
    root = cache / f"pause-{key}"
    if (root / "image.json").is_file():
        return Image(root)
    if shutil.which("gcc") is None:
        raise ImageError("gcc is missing: it builds the node's pause program (e2e/pause.c)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="building-") as scratch:
        work = Path(scratch)
        files = work / "files"
        files.mkdir()
        _run("gcc", "-static", "-O2", "-s", "-o", str(files / "pause"), str(source), what="gcc pause.c")
        config = {"Entrypoint": ["/pause"], "User": "65535:65535", "Labels": {LOCAL_REBUILD_LABEL: "true"}}
        return _write_image(root, work, files, config, {"name": "pause", "tag": key})


def main(argv: list[str] | None = None) -> int:
    # SIGTERM unwinds like an exception, so the chroot's mounts are undone and the scratch folder removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(prog="e2e/image.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "describe", "pause"))
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    try:
        image = {"build": build, "pause": build_pause, "describe": cached}[args.command](args.cache)
    except ImageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if image is None:
        print(f"no image in {args.cache} for {versions()['HAYHOOKS_VERSION']}: run `e2e/image.py build`")
        return 1
    print(json.dumps({**image.meta, "folder": str(image.root)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
