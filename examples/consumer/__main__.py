"""The assistants team's stack: two Hayhooks services in one namespace, one secret store.

`chat` is public (an Ingress with TLS and basic auth); `summarizer` is internal-only (no Ingress;
its NetworkPolicy admits only pods of the namespace). The namespace is the team's own: created
here once, and both services are given it as `namespace=` (its name as the Namespace resource gives
it), so their objects are placed there and wait for it.
"""

import pulumi
import pulumi_kubernetes as k8s
from hayhooks_pulumi import HayhooksService

config = pulumi.Config()
namespace_name = config.get("namespace") or "assistants"

namespace = k8s.core.v1.Namespace(
    "assistants",
    metadata={
        "name": namespace_name,
        # Pod Security `restricted`, as the namespaces HayhooksService creates are labelled.
        "labels": {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")},
    },
)
shared = {
    "profile": "production",
    "image": config.require("image"),
    # The name the objects are planned with; `namespace=` below must resolve to it (checked when it does).
    "namespace": {"name": namespace_name},
    "secretStore": config.require_object("secretStore"),
}

chat = HayhooksService(
    "chat",
    {
        **shared,
        "pipelinesPath": "pipelines/chat",
        "requiredPipelines": ["chat"],
        "server": {
            "cors": {
                "allowOrigins": config.require_object("chatOrigins"),
                "allowHeaders": ["Content-Type", "Authorization"],
            }
        },
        "secrets": {"OPENAI_API_KEY": {"fromStore": {"remoteKey": "assistants/chat", "property": "openai_api_key"}}},
        "ingress": {
            "host": config.require("chatHost"),
            "tlsSecretName": "chat-tls",
            "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-prod"},
        },
        "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4},
    },
    namespace=namespace.metadata.name,
)

summarizer = HayhooksService(
    "summarizer",
    {
        **shared,
        "pipelinesPath": "pipelines/summarizer",
        "requiredPipelines": ["summarize"],
        "secrets": {
            "OPENAI_API_KEY": {"fromStore": {"remoteKey": "assistants/summarizer", "property": "openai_api_key"}}
        },
        "resources": {"cpuRequest": "250m", "memoryRequest": "512Mi", "memoryLimit": "1Gi"},
    },
    namespace=namespace.metadata.name,
)

pulumi.export("namespace", namespace.metadata.name)
pulumi.export("chatUrl", chat.public_url)
pulumi.export("chatUsername", chat.basic_auth_username)
pulumi.export("chatPassword", chat.basic_auth_password)
pulumi.export("summarizerUrl", summarizer.internal_url)
