"""A picture of what a render deploys: `graph.mmd`, a Mermaid flowchart GitHub draws in a pull request.

Drawn from the objects the render registered (the manifests as written, nothing recomputed from the config): who
reaches the edge (Ingress or HTTPRoute) and how it authenticates, the Service it routes to, the Deployment the
Service selects with its replicas (or its autoscaler's range) and probes, the ConfigMaps and Secrets the pods read
and where each Secret comes from (created by the stack, synced by an ExternalSecret from a store, mounted by the
Secrets Store CSI driver, or one that must exist in the cluster), and the peers the NetworkPolicy lets in and out.
The Docker target is drawn likewise: the container, its image, network, volumes and published port.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .writer import is_kubernetes_object, manifest

GRAPH_FILE = "graph.mmd"
_ID = re.compile(r"[^A-Za-z0-9_]")


def _id(kind: str, name: str, namespace: str | None = None) -> str:
    return _ID.sub("_", f"{kind}_{namespace or ''}_{name}").lower()


def _text(text: str) -> str:
    """A label as Mermaid reads it inside quotes: `#` starts Mermaid's entity codes, so it goes first."""
    return text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


@dataclass
class _Graph:
    nodes: dict[str, str] = field(default_factory=dict)
    edges: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)

    def node(self, key: str, *lines: str, shape: str = "box") -> str:
        """The node of `key` (an object's kind, namespace and name), added with its label the first time."""
        if key in self.ids:
            return self.ids[key]
        node_id = self.ids[key] = key if key == "clients" else f"n{len(self.ids)}"
        label = "<br/>".join(_text(line) for line in lines if line)
        opening, closing = {"box": ('["', '"]'), "round": ('(["', '"])'), "store": ('[("', '")]')}[shape]
        self.nodes[node_id] = f"  {node_id}{opening}{label}{closing}"
        return node_id

    def edge(self, source: str, target: str, label: str = "", dotted: bool = False) -> None:
        arrow = "-.->" if dotted else "-->"
        text = f'|"{_text(label)}"|' if label else ""
        line = f"  {source} {arrow}{text} {target}"
        if line not in self.edges:
            self.edges.append(line)

    def text(self) -> str:
        return "\n".join(["flowchart LR", *self.nodes.values(), *self.edges]) + "\n"


def _objects(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [manifest(dict(record)) for record in records if is_kubernetes_object(dict(record))]


def _of(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    return obj["metadata"].get("namespace") or "", obj["metadata"].get("name", "")


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    match = (selector or {}).get("matchLabels", selector or {})
    return bool(match) and all(labels.get(k) == v for k, v in match.items() if isinstance(v, str))


def _probe(probe: Mapping[str, Any] | None) -> str:
    if not probe:
        return "none"
    if "httpGet" in probe:
        how = f"GET {probe['httpGet'].get('path', '/')}"
    elif "tcpSocket" in probe:
        how = f"TCP {probe['tcpSocket'].get('port')}"
    elif "exec" in probe:
        command = probe["exec"].get("command", [])
        # The package's readiness check of required pipelines names them in its script.
        named = re.findall(r"for name in (\[[^\]]*\])", " ".join(command))
        how = f"exec: pipelines {named[0]} loaded" if named else f"exec {command[0] if command else ''}"
    elif "grpc" in probe:
        how = "gRPC"
    else:
        how = "?"
    every = probe.get("periodSeconds", 10)
    return f"{how}, every {every}s x{probe.get('failureThreshold', 3)}"


def _peer(peer: Mapping[str, Any]) -> str:
    parts = []
    if "namespaceSelector" in peer:
        labels = peer["namespaceSelector"].get("matchLabels", {})
        namespace = labels.get("kubernetes.io/metadata.name")
        parts.append(f"namespace {namespace}" if namespace else f"namespaces {_labels(labels) or '(any)'}")
    if "podSelector" in peer:
        labels = peer["podSelector"].get("matchLabels", {})
        parts.append(f"pods {_labels(labels) or '(any)'}")
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        parts.append(block["cidr"] + (f" except {', '.join(block['except'])}" if block.get("except") else ""))
    return ", ".join(parts) or "anyone"


def _labels(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _ports(ports: Iterable[Mapping[str, Any]] | None) -> str:
    return ", ".join(f"{p.get('port', '*')}/{p.get('protocol', 'TCP')}" for p in ports or []) or "all ports"


def _ingress_auth(annotations: Mapping[str, str]) -> str:
    if annotations.get("nginx.ingress.kubernetes.io/auth-type"):
        return f"{annotations['nginx.ingress.kubernetes.io/auth-type']} auth"
    if annotations.get("nginx.ingress.kubernetes.io/auth-url"):
        return f"external auth {annotations['nginx.ingress.kubernetes.io/auth-url']}"
    if annotations.get("traefik.ingress.kubernetes.io/router.middlewares"):
        return f"Traefik middlewares {annotations['traefik.ingress.kubernetes.io/router.middlewares']}"
    return "no authentication"


_POLICY_AUTH = ("apiKeyAuth", "basicAuth", "jwt", "oidc", "extAuth")


def kubernetes_graph(objects: list[dict[str, Any]]) -> str:
    g = _Graph()
    clients = g.node("clients", "clients", shape="round")
    deployments = _of(objects, "Deployment")
    services = _of(objects, "Service")
    secrets = {_key(o): o for o in _of(objects, "Secret")}
    external = {
        (o["metadata"].get("namespace") or "", o["spec"].get("target", {}).get("name") or o["metadata"]["name"]): o
        for o in _of(objects, "ExternalSecret")
    }
    csi = {_key(o): o for o in _of(objects, "SecretProviderClass")}
    # The Kubernetes Secrets the CSI driver syncs from a mounted SecretProviderClass.
    csi_synced = {
        (_key(o)[0], synced["secretName"]): o for o in csi.values() for synced in o["spec"].get("secretObjects", [])
    }

    def csi_node(namespace: str, name: str) -> str:
        found = csi.get((namespace, name))
        provider = found["spec"].get("provider", "?") if found else "?"
        return g.node(
            _id("csi", name, namespace),
            f"SecretProviderClass {name}",
            f"Secrets Store CSI driver, provider {provider}",
            shape="store",
        )

    def service_node(namespace: str, name: str) -> str:
        found = next((s for s in services if _key(s) == (namespace, name)), None)
        ports = ", ".join(
            f"{p['port']} → {p.get('targetPort', p['port'])}" for p in (found or {}).get("spec", {}).get("ports", [])
        )
        return g.node(_id("service", name, namespace), f"Service {name}", ports or "(not in this render)")

    def secret_node(namespace: str, name: str, keys: Iterable[str] = ()) -> str:
        node = _id("secret", name, namespace)
        shown = ", ".join(sorted(set(keys)))
        if (namespace, name) in external:
            source = external[(namespace, name)]
            store = source["spec"].get("secretStoreRef", {})
            remote = sorted(
                {
                    f"{d['remoteRef']['key']}"
                    + (f"#{d['remoteRef']['property']}" if d["remoteRef"].get("property") else "")
                    for d in source["spec"].get("data", [])
                }
            )
            g.node(
                node,
                f"Secret {name}",
                f"keys: {shown}" if shown else "",
                f"synced by ExternalSecret {source['metadata']['name']}",
            )
            store_node = g.node(
                _id("store", store.get("name", "?")),
                f"{store.get('kind', 'SecretStore')} {store.get('name', '?')}",
                ", ".join(remote),
                shape="store",
            )
            g.edge(store_node, g.node(node), "ExternalSecret")
        elif (namespace, name) in csi_synced:
            provider_class = csi_synced[(namespace, name)]["metadata"]["name"]
            g.node(node, f"Secret {name}", f"keys: {shown}" if shown else "", "synced by the CSI driver while mounted")
            g.edge(csi_node(namespace, provider_class), g.node(node), "secretObjects")
        elif (namespace, name) in secrets:
            data = secrets[(namespace, name)]
            stored = sorted({*data.get("data", {}), *data.get("stringData", {})})
            g.node(node, f"Secret {name}", f"keys: {', '.join(stored)}" if stored else "", "created by this stack")
        else:
            g.node(node, f"Secret {name}", f"keys: {shown}" if shown else "", "must exist in the cluster")
        return g.node(node)

    for deployment in deployments:
        namespace, name = _key(deployment)
        # Objects a consumer's program adds are drawn too: read what the API server would default as optional.
        template = deployment["spec"].get("template", {})
        spec = template.get("spec", {})
        labels = template.get("metadata", {}).get("labels", {})
        scalers = [
            h
            for h in _of(objects, "HorizontalPodAutoscaler")
            if h["spec"].get("scaleTargetRef", {}).get("name") == name and _key(h)[0] == namespace
        ]
        if scalers:
            hpa = scalers[0]["spec"]
            replicas = f"replicas {hpa.get('minReplicas', 1)}..{hpa['maxReplicas']} (HorizontalPodAutoscaler)"
        else:
            replicas = f"replicas {deployment['spec'].get('replicas', 1)}"
        container = (spec.get("containers") or [{}])[0]
        budgets = [
            p
            for p in _of(objects, "PodDisruptionBudget")
            if _key(p)[0] == namespace and _selects(p["spec"].get("selector"), labels)
        ]
        budget = ""
        if budgets:
            rule = budgets[0]["spec"]
            limit = "minAvailable" if "minAvailable" in rule else "maxUnavailable"
            budget = f"disruption budget: {limit} {rule.get(limit)}"
        pods = g.node(
            _id("deployment", name, namespace),
            f"Deployment {name} ({namespace})",
            container.get("image", ""),
            replicas,
            budget,
            f"startup: {_probe(container.get('startupProbe'))}",
            f"readiness: {_probe(container.get('readinessProbe'))}",
            f"liveness: {_probe(container.get('livenessProbe'))}",
        )
        for service in services:
            if _key(service)[0] == namespace and _selects(service["spec"].get("selector"), labels):
                g.edge(service_node(*_key(service)), pods)
        # What the pods read: ConfigMaps and Secrets, as volumes and as variables.
        secret_keys: dict[str, list[str]] = {}
        for var in container.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                secret_keys.setdefault(ref["name"], []).append(var["name"])
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                secret_keys.setdefault(source["secretRef"]["name"], [])
        for volume in spec.get("volumes", []):
            mount = next((m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] == volume["name"]), "")
            if "configMap" in volume:
                items = [i["path"] for i in volume["configMap"].get("items", [])]
                node = g.node(
                    _id("configmap", volume["configMap"]["name"], namespace),
                    f"ConfigMap {volume['configMap']['name']}",
                    ", ".join(items),
                )
                g.edge(node, pods, f"mounted at {mount}")
            elif "secret" in volume:
                g.edge(secret_node(namespace, volume["secret"]["secretName"]), pods, f"mounted at {mount}")
            elif "csi" in volume:
                provider_class = volume["csi"].get("volumeAttributes", {}).get("secretProviderClass", "?")
                g.edge(csi_node(namespace, provider_class), pods, f"mounted at {mount}")
        for secret, keys in secret_keys.items():
            g.edge(secret_node(namespace, secret, keys), pods, "env " + ", ".join(sorted(keys)) if keys else "envFrom")
        # Who may reach the pods, and whom they may reach.
        for policy in _of(objects, "NetworkPolicy"):
            if _key(policy)[0] != namespace or not _selects(policy["spec"].get("podSelector"), labels):
                continue
            for index, rule in enumerate(policy["spec"].get("ingress", [])):
                for peer in rule.get("from", []) or [{}]:
                    peer_node = g.node(_id("peer_in", f"{index}_{_peer(peer)}", namespace), _peer(peer), shape="round")
                    g.edge(
                        peer_node,
                        pods,
                        f"NetworkPolicy {policy['metadata']['name']}: {_ports(rule.get('ports'))}",
                        dotted=True,
                    )
            for index, rule in enumerate(policy["spec"].get("egress", [])):
                for peer in rule.get("to", []) or [{}]:
                    peer_node = g.node(_id("peer_out", f"{index}_{_peer(peer)}", namespace), _peer(peer), shape="round")
                    g.edge(pods, peer_node, f"egress {_ports(rule.get('ports'))}", dotted=True)

    for ingress in _of(objects, "Ingress"):
        namespace, name = _key(ingress)
        annotations = ingress["metadata"].get("annotations", {})
        tls = ", ".join(t.get("secretName", "") for t in ingress["spec"].get("tls", []))
        hosts = sorted({rule.get("host", "*") for rule in ingress["spec"].get("rules", [])})
        edge = g.node(
            _id("ingress", name, namespace),
            f"Ingress {name}",
            f"class {ingress['spec'].get('ingressClassName', '(default)')}",
            _ingress_auth(annotations),
        )
        g.edge(
            clients,
            edge,
            ", ".join(("https://" if tls else "http://") + h for h in hosts) + (f" (TLS {tls})" if tls else ""),
        )
        auth_secret = annotations.get("nginx.ingress.kubernetes.io/auth-secret")
        if auth_secret:
            g.edge(secret_node(namespace, auth_secret), edge, "credentials")
        for rule in ingress["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path.get("backend", {}).get("service")
                if backend:
                    g.edge(edge, service_node(namespace, backend["name"]), f"{len(rule['http']['paths'])} paths")
        chain = annotations.get("traefik.ingress.kubernetes.io/router.middlewares", "")
        for middleware in _of(objects, "Middleware"):
            m_namespace, m_name = _key(middleware)
            if f"{m_namespace}-{m_name}@kubernetescrd" in chain.split(","):
                kinds = ", ".join(sorted(middleware["spec"]))
                g.edge(
                    g.node(_id("middleware", m_name, m_namespace), f"Traefik Middleware {m_name}", kinds),
                    edge,
                    "middleware",
                )

    for route in _of(objects, "HTTPRoute"):
        namespace, name = _key(route)
        policies = [
            p
            for p in _of(objects, "SecurityPolicy")
            if any(t.get("kind") == "HTTPRoute" and t.get("name") == name for t in p["spec"].get("targetRefs", []))
        ]
        auth = ", ".join(k for p in policies for k in _POLICY_AUTH if k in p["spec"]) or "no authentication"
        parents = ", ".join(
            f"Gateway {p.get('namespace', namespace)}/{p['name']}"
            + (f" ({p['sectionName']})" if p.get("sectionName") else "")
            for p in route["spec"].get("parentRefs", [])
        )
        edge = g.node(_id("httproute", name, namespace), f"HTTPRoute {name}", parents, f"SecurityPolicy: {auth}")
        g.edge(clients, edge, ", ".join(route["spec"].get("hostnames", [])))
        for policy in policies:
            basic = policy["spec"].get("basicAuth", {}).get("users", {}).get("name")
            if basic:
                g.edge(secret_node(namespace, basic), edge, "credentials")
            api_keys = policy["spec"].get("apiKeyAuth", {}).get("credentialRefs", [])
            for ref in api_keys:
                g.edge(secret_node(namespace, ref["name"]), edge, "API keys")
            client_secret = policy["spec"].get("oidc", {}).get("clientSecret", {}).get("name")
            if client_secret:
                g.edge(secret_node(namespace, client_secret), edge, "OIDC client secret")
        for rule in route["spec"].get("rules", []):
            for backend in rule.get("backendRefs", []):
                g.edge(
                    edge,
                    service_node(backend.get("namespace", namespace), backend["name"]),
                    f"{len(rule.get('matches', []))} paths",
                )
    return g.text()


def docker_graph(records: Sequence[Mapping[str, Any]]) -> str:
    g = _Graph()
    for record in records:
        if record["type"] != "docker:index/container:Container":
            continue
        inputs = record["inputs"]
        container = g.node(
            _id("container", record["name"]),
            f"Container {inputs.get('name', record['name'])}",
            f"restart {inputs.get('restart', 'no')}",
        )
        for port in inputs.get("ports", []):
            clients = g.node("clients", "clients on this host", shape="round")
            g.edge(clients, container, f"{port.get('ip', '0.0.0.0')}:{port.get('external')} → {port.get('internal')}")
        for network in inputs.get("networksAdvanced", []):
            node = g.node(
                _id("network", str(network.get("name"))),
                f"Network {network.get('name')}",
                "aliases " + ", ".join(network.get("aliases", [])),
            )
            g.edge(node, container, "attached")
        for volume in inputs.get("volumes", []):
            source = volume.get("hostPath") or volume.get("volumeName") or "tmpfs"
            node = g.node(
                _id("volume", str(source)), f"{'host folder' if volume.get('hostPath') else 'Volume'} {source}"
            )
            g.edge(node, container, f"{volume.get('containerPath')}{' (read-only)' if volume.get('readOnly') else ''}")
    for record in records:
        if record["type"] == "docker:index/remoteImage:RemoteImage":
            image = g.node(_id("image", record["name"]), f"Image {record['inputs'].get('name')}", shape="store")
            for running in [r for r in records if r["type"] == "docker:index/container:Container"]:
                g.edge(image, g.node(_id("container", running["name"])), "runs")
    return g.text()


def write_graph(out: Path, records: Sequence[Mapping[str, Any]]) -> Path | None:
    """`graph.mmd` in the render's folder, when there is something to draw."""
    text = mermaid(records)
    if text is None:
        return None
    path = out / GRAPH_FILE
    path.write_text(text)
    return path


def mermaid(records: Sequence[Mapping[str, Any]]) -> str | None:
    """The flowchart of a render's records, or None when it deploys nothing this draws."""
    objects = _objects(records)
    if _of(objects, "Deployment"):
        return kubernetes_graph(objects)
    if any(r["type"] == "docker:index/container:Container" for r in records):
        return docker_graph(records)
    return None
