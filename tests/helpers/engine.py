"""The SDK mock engine, set up one way for every test: the render's own mocks (`RenderMocks`) behind a
`RecordingMonitor`, so a test sees what the render would write (types, inputs, parents, options)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

import pulumi
from hayhooks_pulumi.render.mocks import RecordingMonitor, Registration, RenderMocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

Monitor = TypeVar("Monitor", bound=RecordingMonitor)


@overload
def install(
    monitor: None = None, *, project: str = "test", stack: str = "test", preview: bool = False
) -> RecordingMonitor: ...
@overload
def install(
    monitor: type[Monitor], *, project: str = "test", stack: str = "test", preview: bool = False
) -> Monitor: ...
def install(
    monitor: type[RecordingMonitor] | None = None,
    *,
    project: str = "test",
    stack: str = "test",
    preview: bool = False,
) -> RecordingMonitor:
    """Set the mock engine for what runs next (a program, or `@pulumi.runtime.test`); its monitor records
    (a RecordingMonitor, or the subclass given, which may record more)."""
    mocks = RenderMocks()
    recording = (monitor or RecordingMonitor)(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=recording)
    return recording


@overload
def run(
    program: Callable[[], Any],
    monitor: None = None,
    *,
    project: str = "test",
    stack: str = "test",
    preview: bool = False,
) -> RecordingMonitor: ...
@overload
def run(
    program: Callable[[], Any],
    monitor: type[Monitor],
    *,
    project: str = "test",
    stack: str = "test",
    preview: bool = False,
) -> Monitor: ...
def run(
    program: Callable[[], Any],
    monitor: type[RecordingMonitor] | None = None,
    *,
    project: str = "test",
    stack: str = "test",
    preview: bool = False,
) -> RecordingMonitor:
    """Run `program` under a fresh mock engine; the monitor that recorded it."""
    recording = install(monitor, project=project, stack=stack, preview=preview)
    _sync_await(run_pulumi_func(program))
    return recording


def register(program: Callable[[], Any], project: str = "test", stack: str = "test") -> dict[str, Registration]:
    """Run `program` under the SDK mock engine; what each resource received, by resource name."""
    return {r.name: r for r in run(program, project=project, stack=stack).registrations}
