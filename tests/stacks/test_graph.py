"""`graph.mmd`, the picture a render writes of what a stack deploys, says what the rendered objects say: the edge and
its authentication, the Service, the Deployment with its replicas and probes, what the pods read and where each
Secret comes from, and the NetworkPolicy's peers. Every expectation is read from the render's own manifests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.paths import EXAMPLES
from helpers.render import Rendered, Renders

# The grammar graph.mmd keeps to (a subset of Mermaid's flowchart): a header, nodes, edges.
_NODE = re.compile(r'^  (\w+)(\["|\(\["|\[\(")(.*)("\]|"\]\)|"\)\])$')
_EDGE = re.compile(r'^  (\w+) (-->|-\.->)(?:\|"([^"]*)"\|)? (\w+)$')


@dataclass
class Graph:
    labels: dict[str, str]
    edges: list[tuple[str, str, str, bool]]

    @classmethod
    def parse(cls, text: str) -> Graph:
        lines = text.splitlines()
        assert lines[0] == "flowchart LR"
        labels: dict[str, str] = {}
        edges = []
        for line in lines[1:]:
            node, edge = _NODE.match(line), _EDGE.match(line)
            assert node or edge, f"not a line of the graph's grammar: {line!r}"
            if node:
                assert node.group(1) not in labels, f"node {node.group(1)} twice"
                labels[node.group(1)] = node.group(3).replace("<br/>", "\n").replace("#35;", "#")
            else:
                assert edge is not None
                edges.append((edge.group(1), edge.group(4), edge.group(3) or "", edge.group(2) == "-.->"))
        for source, target, _, _ in edges:
            assert source in labels and target in labels, f"edge {source} -> {target} names an undeclared node"
        return cls(labels, edges)

    def node(self, first_line: str) -> str:
        found = [node for node, label in self.labels.items() if label.split("\n")[0] == first_line]
        assert len(found) == 1, f"{first_line!r}: {found} in {self.labels}"
        return found[0]

    def edge(self, source: str, target: str) -> tuple[str, bool]:
        found = [(label, dotted) for s, t, label, dotted in self.edges if (s, t) == (source, target)]
        assert found, f"no edge {self.labels[source]!r} -> {self.labels[target]!r}"
        return found[0]


def _rendered(render: Rendered) -> tuple[Graph, dict[str, list[dict[str, Any]]]]:
    assert render.result.returncode == 0, render.result.stderr
    objects: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((render.out / "manifests").glob("*.yaml")):
        body = yaml.safe_load(path.read_text())
        objects.setdefault(body["kind"], []).append(body)
    return Graph.parse((render.out / "graph.mmd").read_text()), objects


def _workload(graph: Graph, objects: dict[str, list[dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    [deployment] = objects["Deployment"]
    meta = deployment["metadata"]
    node = graph.node(f"Deployment {meta['name']} ({meta['namespace']})")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    label = graph.labels[node]
    assert container["image"] in label
    for kind in ("startup", "readiness", "liveness"):
        assert f"{kind}: " in label and f"{kind}: none" not in label, label
    startup = container["startupProbe"]
    assert f"startup: GET {startup['httpGet']['path']}, every {startup['periodSeconds']}s" in label
    [service] = objects["Service"]
    graph.edge(graph.node(f"Service {service['metadata']['name']}"), node)
    # The pipelines' ConfigMap, mounted where the container says.
    [config_map] = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if "configMap" in v]
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == config_map["name"])
    assert graph.edge(graph.node(f"ConfigMap {config_map['configMap']['name']}"), node)[0] == f"mounted at {mount}"
    # Who may reach the pods: each peer of the NetworkPolicy's ingress rules, dotted, with the ports.
    [policy] = objects["NetworkPolicy"]
    for rule in policy["spec"]["ingress"]:
        for peer in rule["from"]:
            namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            [peer_node] = [n for n, label in graph.labels.items() if label.startswith(f"namespace {namespace}, pods")]
            label, dotted = graph.edge(peer_node, node)
            assert dotted and str(rule["ports"][0]["port"]) in label
    return node, deployment


def test_the_prod_graph_draws_the_ingress_its_auth_the_pods_and_where_their_secrets_come_from(
    stack_render: Renders,
) -> None:
    graph, objects = _rendered(stack_render("prod"))
    pods, deployment = _workload(graph, objects)
    [scaler] = objects["HorizontalPodAutoscaler"]
    assert f"replicas {scaler['spec']['minReplicas']}..{scaler['spec']['maxReplicas']}" in graph.labels[pods]
    [ingress] = objects["Ingress"]
    annotations = ingress["metadata"]["annotations"]
    edge = graph.node(f"Ingress {ingress['metadata']['name']}")
    assert f"{annotations['nginx.ingress.kubernetes.io/auth-type']} auth" in graph.labels[edge]
    label, _ = graph.edge("clients", edge)
    assert f"https://{ingress['spec']['rules'][0]['host']}" in label
    assert ingress["spec"]["tls"][0]["secretName"] in label
    auth_secret = graph.node(f"Secret {annotations['nginx.ingress.kubernetes.io/auth-secret']}")
    assert graph.edge(auth_secret, edge)[0] == "credentials"
    assert "created by this stack" in graph.labels[auth_secret]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
    graph.edge(edge, graph.node(f"Service {backend}"))
    # The LLM key: a variable from a Secret an ExternalSecret syncs from the stack's store.
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    [ref] = [e for e in container["env"] if "valueFrom" in e]
    secret = graph.node(f"Secret {ref['valueFrom']['secretKeyRef']['name']}")
    assert graph.edge(secret, pods)[0] == f"env {ref['name']}"
    [external] = objects["ExternalSecret"]
    assert f"synced by ExternalSecret {external['metadata']['name']}" in graph.labels[secret]
    store = external["spec"]["secretStoreRef"]
    graph.edge(graph.node(f"{store['kind']} {store['name']}"), secret)
    assert (
        external["spec"]["data"][0]["remoteRef"]["key"] in graph.labels[graph.node(f"{store['kind']} {store['name']}")]
    )


def test_the_render_says_it_wrote_the_graph(stack_render: Renders) -> None:
    rendered = stack_render("prod")
    assert "  graph.mmd: a picture of what the stack deploys" in rendered.result.stdout.splitlines()[-1]
    assert (rendered.out / "graph.mmd").is_file()


def test_a_gateway_graph_draws_the_route_its_gateway_and_security_policy(stack_render: Renders) -> None:
    path = next(p for p in EXAMPLES if p.stem == "gateway-envoy-basic")
    graph, objects = _rendered(stack_render(path.stem, path))
    pods, deployment = _workload(graph, objects)
    assert f"replicas {deployment['spec']['replicas']}" in graph.labels[pods]
    [route] = objects["HTTPRoute"]
    [policy] = objects["SecurityPolicy"]
    edge = graph.node(f"HTTPRoute {route['metadata']['name']}")
    parent = route["spec"]["parentRefs"][0]
    assert f"Gateway {parent['namespace']}/{parent['name']}" in graph.labels[edge]
    assert "SecurityPolicy: basicAuth" in graph.labels[edge] and "basicAuth" in policy["spec"]
    assert route["spec"]["hostnames"][0] in graph.edge("clients", edge)[0]
    users = graph.node(f"Secret {policy['spec']['basicAuth']['users']['name']}")
    assert graph.edge(users, edge)[0] == "credentials"
    graph.edge(edge, graph.node(f"Service {route['spec']['rules'][0]['backendRefs'][0]['name']}"))


def test_the_docker_graph_draws_the_container_its_image_and_published_port(stack_render: Renders) -> None:
    rendered = stack_render("dev")
    assert rendered.result.returncode == 0, rendered.result.stderr
    graph = Graph.parse((rendered.out / "graph.mmd").read_text())
    [spec] = [yaml.safe_load(p.read_text()) for p in (rendered.out / "docker").glob("container-*.yaml")]
    container = graph.node(f"Container {spec['inputs']['name']}")
    port = spec["inputs"]["ports"][0]
    assert graph.edge("clients", container)[0] == f"{port['ip']}:{port['external']} → {port['internal']}"
    [image] = [n for n, label in graph.labels.items() if label.startswith("Image ")]
    assert graph.edge(image, container)[0] == "runs"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_writes_a_graph_of_the_graph_grammar(example_renders: dict[str, Rendered], path: Path) -> None:
    graph, objects = _rendered(example_renders[path.stem])
    _workload(graph, objects)
