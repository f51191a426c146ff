"""The local cluster's API server asked from the test's own process: JSON over HTTPS with the cluster's admin token,
the resource paths found by discovery as kubectl finds them.

Why not kubectl: each call is a process start and about 0.1 s of CPU. The tests' pollers and the controllers'
stand-in ask several times a second while an `up` runs, and on 2 cores that slowed the very rollouts they watch.
kubectl stays for what it does better (apply, exec, delete --wait, wait). Standard library only.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APPLY_PATCH = "application/apply-patch+yaml"  # server-side apply (JSON is YAML)
MERGE_PATCH = "application/merge-patch+json"
ATTEMPTS_429 = 10


class ApiError(RuntimeError):
    pass


@dataclass(frozen=True)
class Resource:
    """One kind's collection: `prefix` is `/api/v1` or `/apis/<group>/<version>`."""

    prefix: str
    plural: str
    kind: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        parts = [self.prefix]
        if self.namespaced and namespace:
            parts += ["namespaces", namespace]
        parts.append(self.plural)
        if name is not None:
            parts.append(name)
        if subresource is not None:
            parts.append(subresource)
        return "/".join(parts)


class Api:
    """Requests to one API server. Names of kinds are kubectl's: plural, singular, short name or kind, any case,
    optionally `<plural>.<group>`; the group's preferred version is used."""

    def __init__(self, server: str, ca: Path, token: str, timeout: float = 30) -> None:
        parsed = urllib.parse.urlsplit(server)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 443
        self.token, self.timeout = token, timeout
        self.context = ssl.create_default_context(cafile=str(ca))
        self.lock = threading.Lock()
        self.names: dict[str, Resource] = {}
        self.versions: dict[str, list[Resource]] = {}  # group/version -> its resources

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        query: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """(HTTP status, the decoded JSON answer); an unreachable server is an ApiError. "Too many requests" (429,
        e.g. a new CRD's storage still initialising) is asked again after its Retry-After, as client-go does."""
        if query:
            path += "?" + urllib.parse.urlencode(query)
        attempts = ATTEMPTS_429
        while True:
            status, answer, retry_after = self._once(method, path, body, content_type)
            attempts -= 1
            if status != 429 or not attempts:
                return status, answer
            time.sleep(min(retry_after, 2.0))

    def _once(self, method: str, path: str, body: Any, content_type: str) -> tuple[int, Any, float]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=self.timeout)
        try:
            connection.request(method, path, body=data, headers=headers)
            answer = connection.getresponse()
            raw = answer.read()
        except (OSError, http.client.HTTPException) as error:  # unreachable, or the answer cut short
            raise ApiError(f"{method} {path}: {error!r}") from error
        finally:
            connection.close()
        try:
            retry_after = float(answer.getheader("Retry-After") or 1)
        except ValueError:
            retry_after = 1.0
        try:
            return answer.status, json.loads(raw) if raw else None, retry_after
        except ValueError:
            return answer.status, raw.decode(errors="replace"), retry_after

    def _ok(self, method: str, path: str, **kwargs: Any) -> Any:
        status, answer = self.request(method, path, **kwargs)
        if status >= 300:
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise ApiError(f"{method} {path}: HTTP {status}: {message}")
        return answer

    # ---------------------------------------------------------------- discovery

    def _fetch(self, group_version: str) -> list[tuple[Resource, list[str]]]:
        """A group version's resources, each with the names kubectl knows it by."""
        prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        found = []
        for entry in self._ok("GET", prefix)["resources"]:
            if "/" in entry["name"]:  # a subresource
                continue
            resource = Resource(prefix, entry["name"], entry["kind"], entry["namespaced"])
            aliases = [entry["name"], entry["kind"].lower(), entry.get("singularName") or ""]
            found.append((resource, [*filter(None, aliases), *(entry.get("shortNames") or [])]))
        with self.lock:
            self.versions[group_version] = [resource for resource, _ in found]
        return found

    def _discover(self) -> None:
        groups = self._ok("GET", "/apis")["groups"]
        names: dict[str, Resource] = {}
        for group_version in ["v1", *(g["preferredVersion"]["groupVersion"] for g in groups)]:
            group = group_version.rpartition("/")[0]
            try:
                fetched = self._fetch(group_version)
            except ApiError:  # a group going (a CRD deleted) or not served: kubectl warns and goes on too
                continue
            for resource, aliases in fetched:
                for alias in aliases:  # the first group to claim a name keeps it, the core group first
                    names.setdefault(alias, resource)
                    if group:
                        names.setdefault(f"{alias}.{group}", resource)
        with self.lock:
            self.names = names

    def resource(self, name: str) -> Resource:
        """The resource kubectl would take `name` for; discovery again when it is unknown (a CRD installed since)."""
        key = name.lower()
        found = self.names.get(key)  # one look at the mapping: another thread's discovery may replace it
        if found is None:
            self._discover()
            found = self.names.get(key)
        if found is None:
            raise ApiError(f"the server has no resource named {name!r}")
        return found

    def resource_of(self, body: dict[str, Any]) -> Resource:
        """The resource of an object's own apiVersion and kind (that version asked again when it lacks the kind:
        a CRD changed since)."""
        group_version, kind = body["apiVersion"], body["kind"]
        with self.lock:
            known = self.versions.get(group_version, [])
        found = _of_kind(known, kind) or _of_kind([resource for resource, _ in self._fetch(group_version)], kind)
        if found is None:
            raise ApiError(f"the server has no kind {kind} in {group_version}")
        return found

    # ---------------------------------------------------------------- objects

    def get(self, resource: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object, or None when there is none."""
        if resource.namespaced and not namespace:
            raise ApiError(f"{resource.kind} {name}: a namespaced kind, and no namespace given")
        path = resource.path(namespace, name)
        status, answer = self.request("GET", path)
        if status == 404:
            return None
        if status >= 300:
            raise ApiError(f"GET {path}: HTTP {status}: {answer}")
        return dict(answer)

    def list(self, resource: Resource, namespace: str | None = None, selector: str | None = None) -> list[Any]:
        """Every object of the collection (in `namespace`, else in all), matching the label selector if given; each
        with its apiVersion and kind, as kubectl shows them (a list's items come without)."""
        query = {"labelSelector": selector} if selector else None
        answer = self._ok("GET", resource.path(namespace), query=query)
        return [{"apiVersion": answer["apiVersion"], "kind": resource.kind, **item} for item in answer["items"]]

    def patch(
        self, resource: Resource, namespace: str | None, name: str, patch: Any, subresource: str | None = None
    ) -> Any:
        """A JSON merge patch (of the status, with `subresource="status"`)."""
        path = resource.path(namespace, name, subresource)
        return self._ok("PATCH", path, body=patch, content_type=MERGE_PATCH)

    def apply(self, body: dict[str, Any], manager: str) -> Any:
        """Server-side apply of one object, as `kubectl apply --server-side --field-manager=<manager>`."""
        resource, meta = self.resource_of(body), body["metadata"]
        path = resource.path(meta.get("namespace"), meta["name"])
        query = {"fieldManager": manager}
        return self._ok("PATCH", path, body=body, content_type=APPLY_PATCH, query=query)


def _of_kind(resources: list[Resource], kind: str) -> Resource | None:
    return next((resource for resource in resources if resource.kind == kind), None)
