"""`make bench`, the engine's part: `pulumi preview` and `pulumi up` through the components against the SDK floor,
on the local cluster.

Two programs, each beside its floor (benchmarks/floor.py: the same resources declared directly with the SDK, no
component, no models, no CRD reads), run by the real engine through the Automation API (e2e/engine.py) with the
toolchain's CLI and pulumi-kubernetes, on a kwok-only local cluster (e2e/cluster.py) started for the run:

- the prod settings (this repository's `__main__.py` with `Pulumi.prod.yaml`, the image given by digest);
- 10 services in one program (the render bench's program, every feature on).

Each stack is previewed (timed), brought up (timed), destroyed and its namespace removed; package and floor
alternate, `--repeat` times, and a ratio is the median of the pairs' ratios. Most of an `up` is the provider
awaiting what the cluster does (a Service's endpoints, an ExternalSecret synced), the same for both: the ratio is
what the components add on top. The controllers the cluster lacks are played by status writes (e2e/controllers.py);
pulumi-random by the end-to-end tests' stand-in (tests/e2e/standin). `--check` fails above LIMIT times the floor.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "e2e")]
import bench  # noqa: E402
import floor  # noqa: E402
from cluster import Cluster  # noqa: E402
from controllers import Controllers  # noqa: E402
from engine import SDK_PYTHON  # noqa: E402
from projects import project_copy, stack_engine  # noqa: E402

LIMIT = 1.2
# The local rebuild's digest is not needed: kwok pulls nothing. Any digest but the all-zero placeholder does.
IMAGE = bench.IMAGE


@dataclass(frozen=True)
class Timing:
    preview: float
    up: float


def prod_project(root: Path) -> tuple[Path, str]:
    """This repository's program with the prod stack file, the image given by a digest `up` accepts."""
    return project_copy(root, "prod", image=IMAGE), "prod"


def floor_of(project: Path, stack: str, root: Path) -> Path:
    """The floor's project: the same folder with the floor's program and the registrations recorded from the
    package's, in the interpreter the engine runs the programs with."""
    target = root / f"{project.name}-floor"
    shutil.copytree(project, target)
    environment = bench.environment()
    environment["PATH"] = f"{SDK_PYTHON.parent}:{environment.get('PATH', '')}"
    command = [str(SDK_PYTHON), str(HERE / "floor.py"), str(project), stack, str(target / floor.DATA)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
    if result.returncode != 0:
        raise SystemExit(f"recording the floor of {project.name} failed:\n{result.stderr[-3000:]}")
    floor.write_floor(target, json.loads((target / floor.DATA).read_text()))
    return target


def timed(cluster: Cluster, project: Path, stack: str, root: Path, namespace: str) -> Timing:
    """Wall-clock seconds of `preview` and of `up`, each a whole operation as a CI job runs it (the interpreter,
    the CLI, the plugins, the program, the provider's awaits); the stack is destroyed after."""
    engine = stack_engine(cluster, SDK_PYTHON, root, project, stack)
    try:
        started = time.monotonic()
        preview = engine.preview()
        preview_seconds = time.monotonic() - started
        if not preview.ok:
            raise SystemExit(f"preview of {project.name} failed:\n{preview.text()}")
        with Controllers(cluster):
            started = time.monotonic()
            up = engine.up()
            up_seconds = time.monotonic() - started
        if not up.ok:
            raise SystemExit(f"up of {project.name} failed:\n{up.text()}")
        return Timing(preview_seconds, up_seconds)
    finally:
        engine.teardown()
        cluster.kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=180s", "--ignore-not-found")


def compare(label: str, pairs: list[tuple[Timing, Timing]]) -> tuple[list[str], list[str]]:
    """Each phase's line (the package's median, the floor's, the median of the pairs' ratios) and what is above
    LIMIT. A ratio of pairs, not of medians: each pair ran back to back, under the same load."""
    lines, refused = [], []
    for phase in ("preview", "up"):
        package = statistics.median(getattr(p, phase) for p, _ in pairs)
        base = statistics.median(getattr(f, phase) for _, f in pairs)
        ratio = statistics.median(getattr(p, phase) / max(getattr(f, phase), 0.1) for p, f in pairs)
        lines.append(f"  {label:16} {phase:8} {package:6.1f}s against the floor's {base:6.1f}s: {ratio:.2f}x")
        if ratio > LIMIT:
            refused.append(f"{label} {phase}: {ratio:.2f}x the floor, above {LIMIT}x")
    return lines, refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/engine_bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="pairs per program (default 3)")
    parser.add_argument("--services", type=int, default=10, help="services in the many-services program")
    parser.add_argument("--check", action="store_true", help=f"exit 1 above {LIMIT} x the floor")
    args = parser.parse_args(argv)
    if not SDK_PYTHON.is_file():
        print(f"engine bench: no {SDK_PYTHON}: run `make e2e-venv`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hayhooks-engine-bench-") as scratch:
        root = Path(scratch)
        cluster = Cluster(root / "cluster")
        cluster.start()
        print("engine bench: kwok's node; STAND-IN controllers (status writes) and pulumi-random (tests/e2e/standin)")
        try:
            programs = [(*prod_project(root), "hayhooks", "prod settings")]
            many = bench.write_project(root, args.services)
            (many / f"Pulumi.{bench.STACK}.yaml").write_text(f'config:\n  bench:services: "{args.services}"\n')
            programs.append((many, bench.STACK, "bench", f"{args.services} services"))
            verdicts: list[str] = []
            lines: list[str] = []
            for project, stack, namespace, label in programs:
                base = floor_of(project, stack, root)
                pairs = []
                for attempt in range(args.repeat):
                    order = [(project, "package"), (base, "floor")]
                    if attempt % 2:
                        order.reverse()
                    measured = {
                        kind: timed(
                            cluster, where, stack, root / f"{label}-{kind}-{attempt}".replace(" ", "-"), namespace
                        )
                        for where, kind in order
                    }
                    pairs.append((measured["package"], measured["floor"]))
                found, refused = compare(label, pairs)
                lines += found
                verdicts += refused
        finally:
            cluster.stop()
    print("engine bench (pulumi preview / up on the local cluster, seconds the engine measured):")
    print("\n".join(lines))
    if args.check and verdicts:
        print("engine bench failed: " + "; ".join(verdicts), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
