"""HayhooksService: wires the builders' args into resources, parented to the component."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..image import resolve_image
from .args import HayhooksServiceArgs, IngressController
from .configmap import configmap_args
from .deployment import deployment_args
from .ingress import (
    auth_secret_args,
    ingress_args,
    public_url,
    traefik_middleware,
    uses_basic_auth,
)
from .namespace import namespace_args
from .network_policy import network_policy_args
from .plan import ServicePlan, plan_service
from .scaling import autoscaler_args, disruption_budget_args
from .secrets import config_secret_args, external_secret, has_config_secrets, has_store_secrets
from .service import service_args
from .service_account import service_account_args

TYPE_TOKEN = "hayhooks:index:HayhooksService"


class HayhooksService(pulumi.ComponentResource):
    """Hayhooks on Kubernetes, as its production guide says.

    Everything that can be checked on plain values is checked before the first child
    registers: a bad config raises `ConfigError` (naming each key) and changes nothing.
    """

    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    internal_url: pulumi.Output[str]
    public_url: pulumi.Output[str | None]
    image: pulumi.Output[str]
    image_digest: pulumi.Output[str | None]
    env: pulumi.Output[dict[str, str]]
    basic_auth_username: pulumi.Output[str | None]
    basic_auth_password: pulumi.Output[str | None]

    def __init__(
        self,
        name: str,
        args: HayhooksServiceArgs | Mapping[str, Any],
        *,
        image: pulumi.Input[str] | None = None,
        secret_values: Mapping[str, pulumi.Input[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`args`: the validated model or its camelCase dict; `image` overrides `args.image` with a
        value known only at deploy time (validated inside `apply`); `secret_values`: the values of
        `fromConfig` secrets, by environment variable name."""
        plan = plan_service(name, args, image_given=image is not None, secret_values=secret_values)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.plan = plan
        child = pulumi.ResourceOptions(parent=self)
        image_ref = resolve_image(image if image is not None else str(plan.image), plan.args.profile)

        depends: list[pulumi.Resource] = []
        if plan.args.namespace.create:
            ns = k8s.core.v1.Namespace(f"{name}-namespace", namespace_args(plan), opts=child)
            depends.append(ns)
        scoped = pulumi.ResourceOptions(parent=self, depends_on=depends)

        account = k8s.core.v1.ServiceAccount(f"{name}-service-account", service_account_args(plan), opts=scoped)
        pipelines = k8s.core.v1.ConfigMap(f"{name}-pipelines", configmap_args(plan), opts=scoped)
        secret_deps = self._secrets(plan, secret_values or {}, scoped)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            deployment_args(plan, image_ref, pipelines.metadata.name, account.metadata.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*depends, *secret_deps]),
        )
        k8s.core.v1.Service(f"{name}-service", service_args(plan), opts=scoped)
        if plan.args.network_policy.enabled:
            k8s.networking.v1.NetworkPolicy(f"{name}-network-policy", network_policy_args(plan), opts=scoped)
        if plan.args.disruption_budget.enabled:
            k8s.policy.v1.PodDisruptionBudget(f"{name}-disruption-budget", disruption_budget_args(plan), opts=scoped)
        if plan.args.autoscaling.enabled:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-autoscaler", autoscaler_args(plan, deployment.metadata.name), opts=scoped
            )
        username, password = self._ingress(plan, scoped)

        self.namespace = pulumi.Output.from_input(plan.namespace)
        self.service_name = pulumi.Output.from_input(plan.service_name)
        self.internal_url = pulumi.Output.from_input(plan.internal_url)
        self.public_url = pulumi.Output.from_input(public_url(plan))
        self.image = image_ref
        self.image_digest = image_ref.apply(lambda ref: ref.rpartition("@")[2] or None)
        self.env = pulumi.Output.from_input(dict(plan.env))
        self.basic_auth_username = pulumi.Output.from_input(username)
        self.basic_auth_password = password
        self.register_outputs(
            {
                "namespace": self.namespace,
                "serviceName": self.service_name,
                "internalUrl": self.internal_url,
                "publicUrl": self.public_url,
                "image": self.image,
                "imageDigest": self.image_digest,
                "env": self.env,
                "basicAuthUsername": self.basic_auth_username,
                "basicAuthPassword": self.basic_auth_password,
            }
        )

    def _secrets(
        self, plan: ServicePlan, values: Mapping[str, pulumi.Input[str]], opts: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        created: list[pulumi.Resource] = []
        if has_store_secrets(plan):
            created.append(
                k8s.apiextensions.CustomResource(f"{plan.name}-external-secret", **external_secret(plan), opts=opts)
            )
        if has_config_secrets(plan):
            created.append(
                k8s.core.v1.Secret(
                    f"{plan.name}-config-secret",
                    config_secret_args(plan, values),
                    opts=pulumi.ResourceOptions.merge(
                        opts, pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"])
                    ),
                )
            )
        return created

    def _ingress(self, plan: ServicePlan, opts: pulumi.ResourceOptions) -> tuple[str | None, pulumi.Output[str | None]]:
        if plan.args.ingress is None:
            return None, pulumi.Output.secret(None)
        edge: list[pulumi.Resource] = []
        username: str | None = None
        password: pulumi.Output[str | None] = pulumi.Output.secret(None)
        if uses_basic_auth(plan):
            generated = random.RandomPassword(
                f"{plan.name}-basic-auth-password",
                length=plan.args.ingress.basic_auth.password_length,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            edge.append(
                k8s.core.v1.Secret(
                    f"{plan.name}-basic-auth",
                    auth_secret_args(plan, generated.bcrypt_hash),
                    opts=pulumi.ResourceOptions.merge(
                        opts, pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"])
                    ),
                )
            )
            username = plan.args.ingress.basic_auth.username
            password = pulumi.Output.secret(generated.result)
            if plan.args.ingress.controller is IngressController.TRAEFIK:
                edge.append(
                    k8s.apiextensions.CustomResource(
                        f"{plan.name}-auth-middleware",
                        **traefik_middleware(plan),
                        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(edge))),
                    )
                )
        k8s.networking.v1.Ingress(
            f"{plan.name}-ingress",
            ingress_args(plan),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=edge)),
        )
        return username, password
