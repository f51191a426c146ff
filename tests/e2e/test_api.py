"""e2e/api.py, how the tests and the controllers' stand-in ask the API server from their own process, against
kubectl on the local cluster: the same objects under the same names of kinds."""

from __future__ import annotations

import pytest
from api import ApiError
from cluster import Cluster

# kubectl's names of the kinds the tests ask for: plural, short, singular, kind, and with the group.
NAMES = ["pods", "po", "deploy", "deployment.apps", "hpa", "sa", "svc", "secret", "Namespace", "crd", "ingress"]
NAMES += ["externalsecrets.external-secrets.io", "httproutes.gateway.networking.k8s.io"]
# Never empty, whenever this runs: what the API server makes itself.
MADE_BY_THE_SERVER = {"sa", "svc", "Namespace", "crd"}
EVERY = '{range .items[*]}{.apiVersion} {.kind} {.metadata.namespace}/{.metadata.name}{"\\n"}{end}'


@pytest.mark.parametrize("name", NAMES)
def test_a_kind_lists_what_kubectl_lists(cluster: Cluster, name: str) -> None:
    """The same objects, each with its apiVersion and kind (the API's list leaves them out of its items)."""
    listed = cluster.api.list(cluster.api.resource(name))
    found = {
        f"{item['apiVersion']} {item['kind']} {item['metadata'].get('namespace', '')}/{item['metadata']['name']}"
        for item in listed
    }
    shown = cluster.kubectl("get", name, "-A", "-o", f"jsonpath={EVERY}").stdout
    assert found == set(shown.splitlines())
    assert found or name not in MADE_BY_THE_SERVER


def test_an_object_is_read_a_missing_one_is_none_and_an_unknown_kind_is_named(cluster: Cluster) -> None:
    api = cluster.api
    account = api.get(api.resource("sa"), "default", "default")
    assert account is not None and account["kind"] == "ServiceAccount"
    assert api.get(api.resource("sa"), "default", "no-such-account") is None
    assert api.get(api.resource("ns"), None, "kube-system") is not None
    with pytest.raises(ApiError, match="no resource named 'gadgets'"):
        api.resource("gadgets")
