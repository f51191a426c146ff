"""HayhooksService: wires the builders' args into resources, parented to the component."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..errors import component_problems
from ..image import digest_of, resolve_image
from ..outputs import Secret, exports, known
from ..server.version import warn
from ..tokens import SERVICE_TOKEN, kind_of
from .args import HayhooksServiceArgs
from .claims import claim_shared
from .crd_requirements import CrdRead, CrdRequirement, required_crds, shared_read
from .edge.credentials import EdgeCredentials
from .edge.gateway.models import GatewayArgs
from .edge.gateway.oidc import OIDC_CLIENT_SECRET_VALUE
from .edge.gateway.reference_grants import POLICY_GRANT, reference_grants
from .edge.gateway.route import gateway_public_url, http_route
from .edge.gateway.security_policy import (
    api_keys_secret_args,
    basic_auth_secret_args,
    oidc_client_secret_args,
    oidc_external_secret,
    policy_secret,
    security_policy,
    uses_policy,
)
from .edge.ingress.ingress import auth_secret_args, ingress_args, public_url, uses_basic_auth
from .edge.ingress.middlewares import (
    traefik_cors_middleware,
    traefik_middleware,
    uses_cors_middleware,
    uses_middleware,
)
from .edge.models import BasicAuthUser
from .namespace.keyword import known_name, remember, same_namespace
from .namespace.namespace import namespace_args, namespace_patch_args, retains_namespace
from .network.network_policy import network_policy_args
from .plan import ServicePlan, plan_service
from .secrets.csi import secret_provider_class, uses_csi
from .secrets.external import external_secret, has_store_secrets
from .secrets.opaque import config_secret_args, has_config_secrets
from .waits import external_secret_timeouts, gateway_timeouts, rollout_timeouts
from .workload.configmap import configmap_args
from .workload.deployment import deployment_args, ignored_changes
from .workload.scaling import autoscaler_args, disruption_budget_args
from .workload.service import service_args
from .workload.service_account import service_account_args

TYPE_TOKEN = SERVICE_TOKEN
KIND = kind_of(TYPE_TOKEN)


class HayhooksService(pulumi.ComponentResource):
    """Hayhooks on Kubernetes, as its production guide says.

    Everything that can be checked on plain values is checked before the first child
    registers: a bad config raises `ConfigError` (naming each key) and changes nothing.
    """

    namespace: pulumi.Output[str]
    """The namespace the service runs in."""
    service_name: pulumi.Output[str]
    """The Kubernetes Service in front of the pods (`http-<name>`)."""
    internal_url: pulumi.Output[str]
    """The URL inside the cluster, e.g. `http://http-<name>.<namespace>.svc.cluster.local`."""
    public_url: pulumi.Output[str | None]
    """The URL at the edge (the Ingress host, or the Gateway's first host name); unset without an edge."""
    image: pulumi.Output[str]
    """The image reference the pods run."""
    image_digest: pulumi.Output[str | None]
    """The image's digest (`sha256:...`), when its reference has one."""
    env: pulumi.Output[dict[str, str]]
    """The server's environment as the pods get it, secrets left out."""
    basic_auth_username: pulumi.Output[str | None]
    """The basic-auth user at the edge; unset without basic auth."""
    basic_auth_password: Annotated[pulumi.Output[str | None], Secret]
    """The generated basic-auth password (secret); unset without basic auth."""
    api_keys: Annotated[pulumi.Output[dict[str, str] | None], Secret]
    """The generated API keys by client name (secret); unset without API-key auth."""

    def __init__(
        self,
        name: str,
        args: HayhooksServiceArgs | Mapping[str, Any],
        *,
        image: pulumi.Input[str] | None = None,
        namespace: pulumi.Input[str] | None = None,
        secret_values: Mapping[str, pulumi.Input[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`args`: the validated model or its camelCase dict; `image`: instead of `args.image`, a value known
        only at deploy time (validated inside `apply`); `namespace`: a namespace another resource of the program
        creates, as it gives it (another service's `namespace` output, your Namespace's `metadata.name`): every
        object carries it, and so waits for it; `secret_values`: the values of `fromConfig` secrets, by
        environment variable name (and the OIDC client secret's under `gateway.auth.oidc.clientSecret`)."""
        with component_problems(KIND, name):
            plan = plan_service(name, args, image=image, namespace=namespace, secret_values=secret_values)
            claim_shared(plan)
        super().__init__(TYPE_TOKEN, name, None, opts)
        if namespace is not None and known_name(namespace) is None:
            checked = pulumi.Output.from_input(namespace).apply(functools.partial(same_namespace, plan.namespace))
            plan = dataclasses.replace(plan, namespace_ref=checked)
        elif namespace is not None:
            plan = dataclasses.replace(plan, namespace_ref=namespace)
        self.plan = plan
        warn(plan.warnings, self)
        image_ref = resolve_image(image if image is not None else str(plan.image), plan.args.profile)

        self._crd_reads = self._required_crds(plan) if plan.args.check_crds else []
        # What everything the service makes waits for: the checked reads in an update, nothing in a preview (where
        # only the custom resources wait, see `crd_requirements`).
        self._gate = [] if pulumi.runtime.is_dry_run() else list(self._crd_reads)
        depends: list[pulumi.Input[pulumi.Resource]] = list(self._gate)
        created: pulumi.Output[str] | None = None
        if plan.args.namespace.create:
            made = self._namespace(plan)
            depends.append(made)
            created = made.metadata.apply(lambda metadata: plan.namespace)
        scoped = pulumi.ResourceOptions(parent=self, depends_on=depends)
        rollout = pulumi.ResourceOptions.merge(scoped, pulumi.ResourceOptions(custom_timeouts=rollout_timeouts(plan)))

        account = k8s.core.v1.ServiceAccount(f"{name}-service-account", service_account_args(plan), opts=scoped)
        pipelines = k8s.core.v1.ConfigMap(f"{name}-pipelines", configmap_args(plan), opts=scoped)
        secret_deps, config_secret = self._secrets(plan, secret_values or {}, scoped)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            deployment_args(plan, image_ref, pipelines.metadata.name, account.metadata.name, config_secret),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*depends, *secret_deps],
                ignore_changes=ignored_changes(plan) or None,
                custom_timeouts=rollout_timeouts(plan),
            ),
        )
        k8s.core.v1.Service(f"{name}-service", service_args(plan), opts=rollout)
        if plan.args.network_policy.enabled:
            k8s.networking.v1.NetworkPolicy(f"{name}-network-policy", network_policy_args(plan), opts=scoped)
        if plan.args.disruption_budget.enabled:
            k8s.policy.v1.PodDisruptionBudget(f"{name}-disruption-budget", disruption_budget_args(plan), opts=scoped)
        if plan.args.autoscaling.enabled:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-autoscaler", autoscaler_args(plan, deployment.metadata.name), opts=scoped
            )
        if plan.args.ingress is not None:
            credentials = self._ingress(plan, scoped)
        else:
            credentials = self._gateway(plan, secret_values or {}, scoped)

        # Carrying what creates the namespace, so that a service given it as `namespace=` waits for it.
        self.namespace = created or pulumi.Output.from_input(plan.namespace_input)
        remember(self.namespace, plan.namespace)
        self.service_name = pulumi.Output.from_input(plan.service_name)
        self.internal_url = pulumi.Output.from_input(plan.internal_url)
        self.public_url = pulumi.Output.from_input(public_url(plan) or gateway_public_url(plan))
        self.image = image_ref
        self.image_digest = image_ref.apply(digest_of)
        self.env = known(dict(plan.env))
        self.basic_auth_username = pulumi.Output.from_input(credentials.username)
        self.basic_auth_password = credentials.password
        self.api_keys = credentials.api_keys
        # What a stack exports of this component: the outputs declared above, by the names it registers them under.
        self.exports = exports(self, HayhooksService)
        self.register_outputs(self.exports)

    def _required_crds(self, plan: ServicePlan) -> list[pulumi.Input[pulumi.Resource]]:
        """Each CRD the service needs, read from the cluster and checked to serve the version the service writes
        (see `crd_requirements`): the read, once the check has passed; what waits for it waits for the check too."""
        reads: list[pulumi.Input[pulumi.Resource]] = []
        for requirement in required_crds(plan):
            # Said in a preview and in an update alike (`up --skip-preview` has no preview to say it), before the
            # read and without a resource, so synchronously: a log attached to the read waits for its URN, which a
            # failed read (the CRD missing) never gives, and the line is lost.
            pulumi.log.info(f"{KIND} {plan.name!r} {requirement.needs}")
            crd = shared_read(
                f"{plan.name}-crd-{requirement.crd.replace('.', '-')}",
                requirement.crd,
                pulumi.ResourceOptions(parent=self),
                self.get_provider(CrdRead.TYPE),
            )
            reads.append(crd.served.apply(functools.partial(_served_read, requirement, crd)))
        return reads

    def _namespace(self, plan: ServicePlan) -> k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch:
        """Created, or adopted when it may exist; kept when it leaves the program if `retain` says so (the
        option is stored in state, so it holds when `create` is switched off later)."""
        retain = retains_namespace(plan) or None
        opts = pulumi.ResourceOptions(parent=self, depends_on=list(self._gate), retain_on_delete=retain)
        if plan.args.namespace.adopt:
            return k8s.core.v1.NamespacePatch(f"{plan.name}-namespace", namespace_patch_args(plan), opts=opts)
        return k8s.core.v1.Namespace(f"{plan.name}-namespace", namespace_args(plan), opts=opts)

    def _secrets(
        self, plan: ServicePlan, values: Mapping[str, pulumi.Input[str]], opts: pulumi.ResourceOptions
    ) -> tuple[list[pulumi.Resource], pulumi.Output[str] | None]:
        """What the pods read, and the name the Secret of the `fromConfig` values got (none without them)."""
        created: list[pulumi.Resource] = []
        config_secret: pulumi.Output[str] | None = None
        if uses_csi(plan):
            created.append(self._custom(f"{plan.name}-secret-provider-class", secret_provider_class(plan), opts))
        if has_store_secrets(plan):
            synced = external_secret(plan)
            created.append(self._custom(f"{plan.name}-external-secret", synced, self._synced(plan, opts, synced)))
        if has_config_secrets(plan):
            secret = k8s.core.v1.Secret(
                f"{plan.name}-config-secret", config_secret_args(plan, values), opts=_secret(opts)
            )
            created.append(secret)
            config_secret = secret.metadata.name
        return created, config_secret

    def _custom(
        self, name: str, args: Mapping[str, Any], opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        """A custom resource: it waits for the checked read of its CRD, in a preview too."""
        waits = pulumi.ResourceOptions(depends_on=self._crd_reads)
        return k8s.apiextensions.CustomResource(name, **args, opts=pulumi.ResourceOptions.merge(opts, waits))

    def _synced(
        self, plan: ServicePlan, opts: pulumi.ResourceOptions, args: Mapping[str, Any]
    ) -> pulumi.ResourceOptions:
        """An ExternalSecret: `pulumi up` waits until the operator has synced it (see `waits`). Said beforehand, on
        the component, with the store: the provider's timeout names only the object."""
        store = plan.args.secret_store
        if store is not None and not pulumi.runtime.is_dry_run():
            pulumi.log.info(
                f"ExternalSecret {args['metadata'].name} waits for {store.kind.value} {store.name} to sync it, at most "
                f"{store.ready_timeout_seconds}s (secretStore.readyTimeoutSeconds)",
                resource=self,
            )
        return pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(custom_timeouts=external_secret_timeouts(plan))
        )

    def _password(self, name: str, length: int) -> random.RandomPassword:
        """A generated password. It changes no cluster object, but it is written to the state, so in an update it
        too waits for the checked CRD reads."""
        return random.RandomPassword(
            name, length=length, special=False, opts=pulumi.ResourceOptions(parent=self, depends_on=list(self._gate))
        )

    def _basic_auth(
        self,
        plan: ServicePlan,
        user: BasicAuthUser,
        htpasswd: Callable[[random.RandomPassword], k8s.core.v1.SecretInitArgs],
        opts: pulumi.ResourceOptions,
    ) -> EdgeCredentials:
        """Basic auth at either edge: a generated password, and the Secret `htpasswd` makes of it for the edge.
        One resource name for each at every edge, so switching edges keeps the password."""
        generated = self._password(f"{plan.name}-basic-auth-password", user.password_length)
        written = k8s.core.v1.Secret(f"{plan.name}-basic-auth", htpasswd(generated), opts=_secret(opts))
        return EdgeCredentials(
            username=user.username,
            password=pulumi.Output.secret(generated.result),
            secret_name=written.metadata.name,
            reads=(written,),
        )

    def _ingress(self, plan: ServicePlan, opts: pulumi.ResourceOptions) -> EdgeCredentials:
        """The htpasswd Secret (basic auth), Traefik's Middlewares, then the Ingress, which depends on all of them."""
        ingress = plan.args.ingress
        assert ingress is not None
        credentials = EdgeCredentials()
        if uses_basic_auth(plan):
            # From the password's bcrypt hash, which pulumi-random keeps stable across runs.
            credentials = self._basic_auth(
                plan, ingress.basic_auth, lambda generated: auth_secret_args(plan, generated.bcrypt_hash), opts
            )
        edge = list(credentials.reads)
        if uses_middleware(plan):
            edge.append(
                self._custom(
                    f"{plan.name}-auth-middleware",
                    traefik_middleware(plan, credentials.secret_name),
                    pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(credentials.reads))),
                )
            )
        if uses_cors_middleware(plan):
            edge.append(self._custom(f"{plan.name}-cors-middleware", traefik_cors_middleware(plan), opts))
        k8s.networking.v1.Ingress(
            f"{plan.name}-ingress",
            ingress_args(plan, credentials.secret_name),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=edge)),
        )
        return credentials

    def _gateway(
        self, plan: ServicePlan, values: Mapping[str, pulumi.Input[str]], opts: pulumi.ResourceOptions
    ) -> EdgeCredentials:
        """ReferenceGrants, the Secrets the SecurityPolicy reads, the policy, then the HTTPRoute; nothing without a
        gateway. The route depends on the policy, so it never serves unauthenticated: not before the policy
        exists, not when the policy fails to create, and on destroy it goes first; `pulumi up` then waits for the
        Gateway to accept the route (see `waits`). The policy names the route by its name, known in advance."""
        gateway = plan.args.gateway
        if gateway is None:
            return EdgeCredentials()
        credentials = self._policy_credentials(plan, gateway, values, opts) if uses_policy(plan) else EdgeCredentials()
        follows_secret = pulumi.ResourceOptions(replace_on_changes=["spec"])
        grants: list[pulumi.Resource] = [
            self._custom(
                f"{plan.name}-{suffix}",
                grant,
                pulumi.ResourceOptions.merge(opts, follows_secret) if suffix == POLICY_GRANT else opts,
            )
            for suffix, grant in reference_grants(plan, credentials.secret_name).items()
        ]
        route_needs = list(grants)
        if uses_policy(plan):
            policy = self._custom(
                f"{plan.name}-security-policy",
                security_policy(plan, policy_secret(plan, credentials.secret_name)),
                pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[*credentials.reads, *grants])),
            )
            route_needs.append(policy)
        self._custom(
            f"{plan.name}-http-route",
            http_route(plan),
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=route_needs, custom_timeouts=gateway_timeouts(plan))
            ),
        )
        return credentials

    def _policy_credentials(
        self,
        plan: ServicePlan,
        gateway: GatewayArgs,
        values: Mapping[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions,
    ) -> EdgeCredentials:
        """What the SecurityPolicy reads: the Secret the component writes for it (none when the store writes it,
        or for JWT), with the basic-auth user and password or the API keys it holds."""
        auth = gateway.auth
        if auth.api_key is not None:
            keys = {
                client: self._password(f"{plan.name}-api-key-{client}", auth.api_key.key_length).result
                for client in auth.api_key.clients
            }
            written = k8s.core.v1.Secret(f"{plan.name}-api-keys", api_keys_secret_args(plan, keys), opts=_secret(opts))
            return EdgeCredentials(
                api_keys=pulumi.Output.secret(pulumi.Output.all(**keys)),
                secret_name=written.metadata.name,
                reads=(written,),
            )
        if auth.basic is not None:
            # Envoy reads `{SHA}` hashes only, so this htpasswd is made from the password itself.
            return self._basic_auth(
                plan, auth.basic, lambda generated: basic_auth_secret_args(plan, generated.result), opts
            )
        source = auth.oidc.client_secret if auth.oidc is not None else None
        if source is not None and source.from_config is not None:
            value = values[OIDC_CLIENT_SECRET_VALUE]
            written = k8s.core.v1.Secret(
                f"{plan.name}-oidc-client", oidc_client_secret_args(plan, value), opts=_secret(opts)
            )
            return EdgeCredentials(secret_name=written.metadata.name, reads=(written,))
        if source is not None and source.from_store is not None:
            args = oidc_external_secret(plan)
            synced = self._custom(f"{plan.name}-oidc-client", args, self._synced(plan, opts, args))
            return EdgeCredentials(reads=(synced,))
        return EdgeCredentials()


def _served_read(requirement: CrdRequirement, crd: CrdRead, served: tuple[str, ...] | None) -> CrdRead:
    problem = requirement.served_problem(served)
    if problem is not None:
        raise pulumi.RunError(problem)
    return crd


def _secret(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """A Secret's data stays secret in state, whatever its inputs were marked."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"]))
