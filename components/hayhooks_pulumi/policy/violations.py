"""The catalog's checks run over resources: what one resource breaks, what the stack's edge breaks,
and what the workload rules looked at."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .catalog import CATALOG, RESOURCE_RULES, STACK_RULES, Rule
from .docker import docker_container
from .edge import EdgeConfig, Stack
from .httproute import route_rules
from .ingress import ingress_fronts
from .objects import Resource, kubernetes_object
from .owners import key_for
from .workload import hayhooks_containers


@dataclass(frozen=True)
class Violation:
    rule: Rule
    subject: str
    message: str
    urn: str | None = None
    component: str | None = None
    """The package's component that made the object, if one did (`HayhooksService 'hayhooks'`)."""
    set_by: str | None = None
    """The key of that component's args that sets what the rule found (`server.showTracebacks`)."""

    @property
    def text(self) -> str:
        """The message, and where the component's key is known, that key."""
        if self.component is None or self.set_by is None:
            return self.message
        return f"{self.message} (set by {self.set_by} of {self.component})"

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.text}"


class _Subject(Protocol):
    @property
    def subject(self) -> str: ...


_S = TypeVar("_S", bound=_Subject)


def _violations(
    target: _S,
    checks: Iterable[tuple[Rule, Callable[[_S], list[str]] | None]],
    urn: str | None,
    component: str | None = None,
    object_kind: str | None = None,
) -> list[Violation]:
    """Each rule's messages about one subject, in the order of the rules; for an object one of the package's
    components made, with the key of its args that sets what was found."""
    return [
        Violation(rule, target.subject, message, urn, component, _key(rule, message, component, object_kind))
        for rule, check in checks
        if check is not None
        for message in check(target)
    ]


def _key(rule: Rule, message: str, component: str | None, object_kind: str | None) -> str | None:
    if component is None:
        return None
    return key_for(CATALOG[rule].set_by, message, component, object_kind)


def resource_violations(resource: Resource, rules: Collection[Rule] = RESOURCE_RULES) -> list[Violation]:
    """What one resource breaks of the given rules, in their order; empty for anything that does not run Hayhooks."""
    specs = [(rule, CATALOG.get(rule)) for rule in rules]
    container = docker_container(resource)
    if container is not None:
        docker_checks = [(rule, spec.docker if spec else None) for rule, spec in specs]
        return _violations(container, docker_checks, resource.urn, resource.component)
    obj = kubernetes_object(resource)
    if obj is None:
        return []
    pod_checks = [(rule, spec.pod if spec else None) for rule, spec in specs]
    return [
        v
        for pod_container in hayhooks_containers(obj)
        for v in _violations(pod_container, pod_checks, resource.urn, resource.component, obj.kind)
    ]


def stack_violations(
    resources: Iterable[Resource], config: EdgeConfig | None = None, rules: Collection[Rule] = STACK_RULES
) -> list[Violation]:
    """What routes to Hayhooks without authentication, or routes its code-upload paths: the Services first,
    then each Ingress, then each HTTPRoute rule, each with the catalog's rules in order."""
    resources = list(resources)
    objects = [obj for obj in (kubernetes_object(r) for r in resources) if obj is not None]
    # The component that made each object, by its body (which the object shares with its resource).
    made_by = {id(r.props): r.component for r in resources}
    stack = Stack(objects, config or EdgeConfig())
    services = stack.hayhooks_services()
    if not services:
        return []
    specs = [(rule, spec) for rule, spec in CATALOG.items() if rule in rules]
    violations = []
    for service in services:
        owner = made_by.get(id(service.body))
        violations += _violations(
            service, [(rule, spec.service) for rule, spec in specs], service.urn, owner, "Service"
        )
    for front in ingress_fronts(stack, services):
        owner = made_by.get(id(front.ingress.body))
        violations += _violations(front, [(rule, spec.ingress) for rule, spec in specs], front.urn, owner, "Ingress")
    for route_rule in route_rules(stack, services):
        owner = made_by.get(id(route_rule.route.body))
        checks = [(rule, spec.route) for rule, spec in specs]
        violations += _violations(route_rule, checks, route_rule.urn, owner, "HTTPRoute")
    return violations


def hayhooks_subjects(resources: Iterable[Resource]) -> list[str]:
    """What the workload rules look at: each Docker container and Kubernetes workload running Hayhooks."""
    subjects = []
    for resource in resources:
        container = docker_container(resource)
        obj = kubernetes_object(resource) if container is None else None
        if container is not None:
            subjects.append(container.subject)
        elif obj is not None and any(True for _ in hayhooks_containers(obj)):
            subjects.append(obj.subject)
    return subjects
