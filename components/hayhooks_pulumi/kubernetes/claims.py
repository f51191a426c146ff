"""What two HayhooksServices of one program must not both claim: a namespace to create, a public host.

Every object of a service is named after the service, so services never collide on names; these
are the shared things they would fight over. A second Namespace of one name fails at apply time,
after the first service's objects exist (and a render would show one object where there are
two); two edges for one host split its paths between two backends. Both are refused before the
second service registers anything.
"""

from __future__ import annotations

import weakref
from typing import Any

import pulumi

from ..planning import Problems
from .plan import ServicePlan

# Per running program: the engine connection identifies it (each mock-engine test has its own).
_CLAIMS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], str]] = weakref.WeakKeyDictionary()


def _claims() -> dict[tuple[str, str], str] | None:
    monitor = pulumi.runtime.settings.get_monitor()
    if monitor is None:
        return None
    try:
        return _CLAIMS.setdefault(monitor, {})
    except TypeError:  # an engine connection that cannot be weakly referenced: no check
        return None


def _wanted(plan: ServicePlan) -> list[tuple[tuple[str, str], str]]:
    """(what, value) and the config path that asks for it."""
    wanted: list[tuple[tuple[str, str], str]] = []
    if plan.args.namespace.create:
        wanted.append((("namespace", plan.namespace), "namespace.create"))
    if plan.args.ingress is not None:
        wanted.append((("host", plan.args.ingress.host), "ingress.host"))
    if plan.args.gateway is not None:
        for index, host in enumerate(plan.args.gateway.hostnames):
            wanted.append((("host", host), f"gateway.hostnames[{index}]"))
    return wanted


def claim_shared(plan: ServicePlan) -> None:
    """Record what this service creates or serves; raise ConfigError when another service of the
    program already did (nothing is recorded then)."""
    claims = _claims()
    if claims is None:
        return
    wanted = _wanted(plan)
    problems = Problems()
    for (what, value), path in wanted:
        owner = claims.get((what, value))
        if owner is None or owner == plan.name:
            continue
        if what == "namespace":
            problems.add(
                path,
                f"namespace {value!r} is already created by HayhooksService {owner!r} in this program: create "
                f"it once; give this one namespace={owner}.namespace (that service's output) instead of "
                "namespace.create, so its objects are placed there and wait for it",
            )
        else:
            problems.add(
                path,
                f"host {value!r} is already served by HayhooksService {owner!r} in this program: two edges for "
                "one host split its paths between two backends; give each service its own host",
            )
    problems.raise_if_any()
    for key, _ in wanted:
        claims[key] = plan.name
