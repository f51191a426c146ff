"""`python -m hayhooks_pulumi.render --stack prod [--config FILE] [--out DIR] [--project-dir DIR]`"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import runpy
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXIT_CONFIG = 2
EXIT_FAILURE = 1
# The SDK allocates many small objects per resource that live until the program ends (futures,
# outputs): a young generation this large cuts the collector's share of a render by a fifth.
GC_THRESHOLD = (50_000, 20, 100)
# Written into every render: only a directory holding it (or a new or empty one) is ever replaced.
RENDER_MARKER = ".hayhooks-render"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hayhooks-pulumi-render", description=__doc__)
    parser.add_argument("--stack", required=True, help="stack name, e.g. prod")
    parser.add_argument("--config", type=Path, help="stack config file (default: Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--out",
        type=Path,
        help="output directory (default: build/<stack>), replaced whole: it must be new, empty or an earlier render",
    )
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the Pulumi project (default: .)")
    parser.add_argument("--quiet", action="store_true", help="do not print the resource tree")
    return parser.parse_args(argv)


def run_program(project_dir: Path, stack: str, config_file: Path) -> tuple[list, dict[str, Any]]:
    """Run the project's own __main__.py under the mock engine; return registrations and stack outputs."""
    monitor, outputs = run_program_recorded(project_dir, stack, config_file)
    return monitor.registrations, outputs


def run_program_recorded(project_dir: Path, stack: str, config_file: Path) -> tuple[Any, dict[str, Any]]:
    """`run_program`, returning the recording monitor itself (registrations and reads)."""
    import pulumi
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from .mocks import RecordingMonitor, RenderMocks
    from .stackfile import project_name, read_stack_file

    project = project_name(project_dir)
    stackfile = read_stack_file(config_file, project)
    mocks = RenderMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(stackfile.config, stackfile.secret_keys)
    sys.path.insert(0, str(project_dir))
    os.chdir(project_dir)

    def program() -> None:
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

    try:
        _sync_await(run_pulumi_func(program))
        root = pulumi.runtime.settings.get_root_resource()
        outputs = _sync_await(_resolve(getattr(root, "outputs", {})))
    finally:
        monitor.close_event_loops()
    return monitor, outputs


def out_refusal(out: Path, project_dir: Path) -> str | None:
    """Why `out` must not be replaced, or None. Replacing deletes it whole, so only a new or empty
    directory or an earlier render (its marker file) qualifies, never the project, HOME or what holds them."""
    guarded = [(project_dir, "the project directory")]
    with contextlib.suppress(RuntimeError):  # no HOME and no passwd entry: nothing to guard
        guarded.append((Path.home().resolve(), "your home directory"))
    for path, what in guarded:
        if path.is_relative_to(out):
            return f"it is {what} ({path})" if path == out else f"it contains {what} ({path})"
    if not out.exists():
        return None
    if not out.is_dir():
        return "it is not a directory"
    if (out / RENDER_MARKER).is_file() or not any(out.iterdir()):
        return None
    return f"it is not empty and holds no {RENDER_MARKER} file, so it is not an earlier render"


def _refuse(out: Path, reason: str) -> int:
    print(
        f"error: refusing to replace --out {out}: {reason}; nothing was deleted. "
        "Name a new or empty directory, or an earlier render (default: build/<stack>).",
        file=sys.stderr,
    )
    return EXIT_CONFIG


@contextlib.contextmanager
def offline_render() -> Iterator[list[str]]:
    """While the program runs: a production image's placeholder digest is a warning, not an error (a review of
    a stack still waiting for its digest is no deployment); yields the warnings' texts, each once, with those of a
    release newer than the package knows."""
    from ..image import RENDER_OFFLINE_ENV, PlaceholderDigestWarning
    from ..server.version import ServerVersionWarning

    shown = (PlaceholderDigestWarning, ServerVersionWarning)

    before = os.environ.get(RENDER_OFFLINE_ENV)
    os.environ[RENDER_OFFLINE_ENV] = "1"
    texts: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            for category in shown:
                warnings.simplefilter("always", category)
            try:
                yield texts
            finally:
                texts.extend(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, shown)))
    finally:
        if before is None:
            os.environ.pop(RENDER_OFFLINE_ENV, None)
        else:
            os.environ[RENDER_OFFLINE_ENV] = before


async def _resolve(outputs: dict[str, Any]) -> dict[str, Any]:
    import pulumi
    from pulumi.runtime.rpc import wrap_rpc_secret

    resolved = {}
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        plain = await output.future()
        resolved[key] = wrap_rpc_secret(plain) if await output.is_secret() else plain
    return resolved


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    project_dir = args.project_dir.resolve()
    config_file = (args.config or project_dir / f"Pulumi.{args.stack}.yaml").resolve()
    out = (args.out or project_dir / "build" / args.stack).resolve()
    if not config_file.is_file():
        print(f"error: no stack config {config_file}", file=sys.stderr)
        return EXIT_CONFIG
    if (reason := out_refusal(out, project_dir)) is not None:
        return _refuse(out, reason)

    from ..errors import ConfigError
    from .graph import write_graph
    from .stackfile import StackFileError
    from .writer import DuplicateObjectError, DuplicateUrnError, check_unique_urns, summary, tree, write_render

    # One short process: what exists now (imports, argparse) is never garbage, so never scan it.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        with offline_render() as placeholder_warnings:
            registrations, outputs = run_program(project_dir, args.stack, config_file)
        for text in placeholder_warnings:
            print(f"warning: {text}", file=sys.stderr)
    except StackFileError as error:
        print(f"error: cannot read {error.path} (nothing was written):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as error:
        # With a subject, the program passed the args (not read from the stack file): each line names the component.
        where = "component args" if error.subject else f"config in {config_file.name}"
        print(f"error: invalid {where} (nothing was written):", file=sys.stderr)
        for line in error.lines:
            print(f"  {line}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as error:
        print(f"error: the program failed: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        check_unique_urns(registrations)
    except DuplicateUrnError as error:
        print(f"error: {error} (the engine refuses it; nothing was written)", file=sys.stderr)
        return EXIT_CONFIG

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".render-{args.stack}-", dir=out.parent))
    try:
        records = write_render(staging, registrations, outputs)
        graph = write_graph(staging, records)
        (staging / RENDER_MARKER).write_text(
            "Written by hayhooks_pulumi.render; the next render to this directory replaces it whole.\n"
        )
        if (reason := out_refusal(out, project_dir)) is not None:  # changed while the program ran
            return _refuse(out, reason)
        if out.exists():
            shutil.rmtree(out)
        shutil.move(str(staging), out)
    except DuplicateObjectError as error:
        print(f"error: the program registers one object twice (nothing was written): {error}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not args.quiet:
        print(tree(records))
    print(summary(records, args.stack, out))
    if graph is not None:
        print(f"  {graph.name}: a picture of what the stack deploys (Mermaid, which GitHub draws)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
