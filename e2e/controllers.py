"""STAND-IN for the controllers the local cluster lacks (e2e/cluster.py), played by the writes they make through
the API server: the External Secrets Operator (an ExternalSecret becomes Ready, and the Secret it names is written,
owned by it, with test values; or, for a store that never syncs, Ready False), ingress-nginx or Traefik (an Ingress
gets an address), Envoy Gateway (an HTTPRoute is Accepted). Nothing is fetched from a store or routed. Used by the
end-to-end tests and `make bench`, each of which says so in its output. Standard library only.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Collection
from typing import Any, ClassVar

from api import ApiError
from cluster import Cluster

# The ingress address the test publishes as the ingress controller would: a name in a reserved TLD.
INGRESS_ADDRESS = {"hostname": "ingress.hayhooks-e2e.invalid"}
GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _condition(kind: str, reason: str) -> dict[str, str]:
    return {"type": kind, "status": "True", "reason": reason, "message": reason, "lastTransitionTime": _now()}


def published_status(body: dict[str, Any]) -> dict[str, Any] | None:
    """The status each missing controller writes once it has done its part, in the shape its CRD validates;
    None when it has written it already."""
    status = body.get("status") or {}
    if body["kind"] == "ExternalSecret":
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", [])):
            return None
        return {"conditions": [_condition("Ready", "SecretSynced")]}
    if body["kind"] == "HTTPRoute":
        if status.get("parents"):
            return None
        parents = body["spec"]["parentRefs"]
        conditions = [_condition("Accepted", "Accepted")]
        return {
            "parents": [
                {"parentRef": p, "controllerName": GATEWAY_CONTROLLER, "conditions": conditions} for p in parents
            ]
        }
    if body["kind"] == "Ingress":
        if status.get("loadBalancer", {}).get("ingress"):
            return None
        return {"loadBalancer": {"ingress": [INGRESS_ADDRESS]}}
    raise AssertionError(f"no controller played for {body['kind']}")


def failed_sync(body: dict[str, Any]) -> dict[str, Any] | None:
    """What the External Secrets Operator writes when the store refuses it: Ready is False (None: written already)."""
    conditions = (body.get("status") or {}).get("conditions", [])
    if any(c.get("type") == "Ready" and c.get("status") == "False" for c in conditions):
        return None
    message = "could not get secret data from provider: the store is unreachable"
    ready = {"type": "Ready", "status": "False", "reason": "SecretSyncedError", "message": message}
    return {"conditions": [{**ready, "lastTransitionTime": _now()}]}


class Controllers:
    """The controllers of this module's docstring, played until stopped. A test that starts it says so in its
    output."""

    RESOURCES: ClassVar[dict[str, str]] = {
        "ExternalSecret": "externalsecrets.external-secrets.io",
        "HTTPRoute": "httproutes.gateway.networking.k8s.io",
        "Ingress": "ingresses.networking.k8s.io",
    }

    def __init__(self, cluster: Cluster, ingress: bool | Collection[str] = True, store_syncs: bool = True) -> None:
        """`ingress`: which Ingresses get an address, by namespace (True: all; False: none)."""
        self.cluster, self.store_syncs = cluster, store_syncs
        self.ingress_namespaces = None if isinstance(ingress, bool) else frozenset(ingress)
        self.kinds = [k for k in self.RESOURCES if k != "Ingress" or ingress]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.failure: Exception | None = None

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            # A round that fails otherwise (the synced Secret refused) is tried again; the failure of the last
            # round is said when the test leaves (see __exit__), not lost with the thread.
            try:
                self._round()
                self.failure = None
            except Exception as failure:
                self.failure = failure

    def _round(self) -> None:
        # Asked from this process (e2e/api.py): a kubectl process twice a second is CPU the tests feel on 2 cores.
        api = self.cluster.api
        for kind in self.kinds:
            resource = api.resource(self.RESOURCES[kind])
            try:
                listed = api.list(resource)
            except ApiError:  # an API server restarting, in the fault tests: the next round asks again
                return
            for item in listed:
                meta = item["metadata"]
                if kind == "Ingress" and not self._plays_ingress_in(meta["namespace"]):
                    continue
                status = published_status(item) if self.store_syncs or kind != "ExternalSecret" else failed_sync(item)
                if status is None:
                    continue
                if kind == "ExternalSecret" and self.store_syncs:
                    self._write_synced_secret(item)
                # Refused (the object deleted since the list, the server restarting): the next round sees it again.
                with contextlib.suppress(ApiError):
                    api.patch(resource, meta["namespace"], meta["name"], {"status": status}, subresource="status")

    def _plays_ingress_in(self, namespace: str) -> bool:
        return self.ingress_namespaces is None or namespace in self.ingress_namespaces

    def _write_synced_secret(self, item: dict[str, Any]) -> None:
        """The Secret the operator writes from the store (`creationPolicy: Owner`: owned by the ExternalSecret, so
        it goes with it), each key a test value naming where the store would have it from."""
        spec, meta = item["spec"], item["metadata"]
        target = spec.get("target", {}).get("name") or meta["name"]
        data = {
            entry["secretKey"]: f"e2e-store-value:{entry['remoteRef']['key']}:{entry['remoteRef'].get('property', '')}"
            for entry in spec.get("data", [])
        }
        owner = {
            "apiVersion": item["apiVersion"],
            "kind": "ExternalSecret",
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
        }
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": target, "namespace": meta["namespace"], "ownerReferences": [owner]},
            "stringData": data,
        }
        self.cluster.api.apply(secret, manager="e2e-external-secrets")

    def describe(self) -> str:
        """What the test plays, as its output says it."""
        store = "" if self.store_syncs else " (a store that never syncs: ExternalSecrets Ready=False)"
        namespaces = self.ingress_namespaces
        only = "" if not namespaces else f" (Ingresses in {', '.join(sorted(namespaces))})"
        return f"STAND-IN: the test plays the controllers of {', '.join(self.kinds)}{store}{only}"

    def __enter__(self) -> Controllers:
        print(self.describe())
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        if self.failure is not None and kind is None:
            raise AssertionError(f"the controllers' stand-in failed: {self.failure!r}") from self.failure
