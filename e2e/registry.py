"""An image registry on 127.0.0.1 (distribution's `registry`, from the toolchain) holding the locally built
Hayhooks image, so that the Docker engine and the kubelet's containerd pull it by digest, as a cluster pulls
from its registry: `127.0.0.1:<port>/hayhooks@sha256:<digest>`.

Its storage lives beside the images in the cache, so an image is pushed once; each start serves them on a free
port. The push is the distribution API's (blob uploads, then the manifest), and the registry must answer
with the digest the image was built with. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from image import DEFAULT_CACHE, MANIFEST_TYPE, Image
from lifetime import launched, terminate

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 30.0


class RegistryError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@dataclass
class Registry:
    binary: Path
    log: Path
    storage: Path = DEFAULT_CACHE / "registry"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def reference(self, image: Image) -> str:
        """How a stack names the image, as production does: `<name>:<tag>@<digest>` (pulled by the digest)."""
        return f"{self.address}/{image.name}:{image.tag}@{image.digest}"

    def start(self, dies_with_parent: bool = False) -> None:
        self.storage.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        config = self.log.parent / "registry.yml"
        config.write_text(
            json.dumps(
                {
                    "version": 0.1,
                    "log": {"level": "warn", "accesslog": {"disabled": True}},
                    "storage": {"filesystem": {"rootdirectory": str(self.storage)}, "delete": {"enabled": False}},
                    "http": {"addr": self.address},
                }
            )
        )
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                launched([str(self.binary), "serve", str(config)], dies_with_parent=dies_with_parent),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        (self.log.parent / "registry.pid").write_text(str(self.proc.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RegistryError(f"registry exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                if self._request("GET", "/v2/")[0] == 200:
                    return
            if time.monotonic() > deadline:
                raise RegistryError(f"registry did not answer on {self.address} in {START_TIMEOUT:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop it (started here, or by another run of this program: `make cluster`)."""
        pid = self.proc.pid if self.proc is not None else _pid_of(self.log.parent / "registry.pid")
        if pid is not None:
            terminate(pid, self.proc)
        self.proc = None
        (self.log.parent / "registry.pid").unlink(missing_ok=True)

    def _request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = HTTPConnection(LOOPBACK, self.port, timeout=300)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def has(self, image: Image) -> bool:
        status, headers, _ = self._request(
            "HEAD", f"/v2/{image.name}/manifests/{image.digest}", headers={"Accept": MANIFEST_TYPE}
        )
        return status == 200 and headers.get("docker-content-digest") == image.digest

    def ensure(self, image: Image) -> str:
        """The image in the registry (pushed if it lacks it); its reference by digest."""
        if not self.has(image):
            self.push(image)
        return self.reference(image)

    def push(self, image: Image) -> None:
        """Every blob the registry lacks, then the manifest under the image's tag; checked by its digest."""
        for digest, path in image.blobs():
            if self._request("HEAD", f"/v2/{image.name}/blobs/{digest}")[0] == 200:
                continue
            status, headers, body = self._request("POST", f"/v2/{image.name}/blobs/uploads/")
            if status != 202:
                raise RegistryError(f"upload of {digest} refused: {status} {body[:300]!r}")
            location = headers["location"]
            location = location.split(self.address, 1)[-1] if "://" in location else location
            separator = "&" if "?" in location else "?"
            with path.open("rb") as data:
                size = str(path.stat().st_size)
                status, _, body = self._request(
                    "PUT",
                    f"{location}{separator}digest={digest}",
                    body=data,
                    headers={"Content-Type": "application/octet-stream", "Content-Length": size},
                )
            if status != 201:
                raise RegistryError(f"upload of {digest} failed: {status} {body[:300]!r}")
        status, headers, body = self._request(
            "PUT",
            f"/v2/{image.name}/manifests/{image.tag}",
            body=image.manifest(),
            headers={"Content-Type": MANIFEST_TYPE},
        )
        if status != 201 or headers.get("docker-content-digest") != image.digest:
            raise RegistryError(f"manifest of {image.tag} refused or digest changed: {status} {headers} {body[:300]!r}")


def _pid_of(path: Path) -> int | None:
    with contextlib.suppress(ValueError, OSError):
        pid = int(path.read_text())
        if Path(f"/proc/{pid}/exe").resolve().name == "registry":
            return pid
    return None


@contextlib.contextmanager
def serving(binary: Path, folder: Path, *images: Image, dies_with_parent: bool = False) -> Iterator[Registry]:
    """The registry on a free loopback port with the images in it, until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    registry = Registry(binary, folder / "registry.log")
    registry.start(dies_with_parent)
    try:
        for image in images:
            registry.ensure(image)
        yield registry
    finally:
        registry.stop()
