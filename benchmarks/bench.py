"""`make bench`: render programs of 1, 10 and 50 HayhooksServices against the SDK floor; time, peak memory,
marginal cost per service.

Each program is a generated Pulumi project in a temporary directory (its own Pulumi.yaml, stack
file, pipelines and __main__.py) rendered by the package's own CLI in a fresh interpreter, as
`make render` does, so the figures include start-up and imports. Beside each, the SDK floor
(floor.py): a program that registers the same resources with the same inputs directly with the SDK,
rendered by the same CLI, so the ratio between the two is the package's own cost.

A shared 2-core machine is noisy, and in bursts: other work slows a render's CPU as well as its wall
clock (caches, memory), by a third at times, so the fastest runs of two programs may come from a quiet
and a busy moment. So each run of the package is paired with one of the floor, back to back (which
goes first alternates), size after size, `--repeat` times, and a ratio is the median of the pairs'
ratios: a burst that slows one pair moves the median little. The figures per size are medians too;
the verdicts use CPU time (user + system, all of the render's threads), which other processes disturb
less than the wall clock, shown beside it. The renders keep Python's bytecode cache as a user's do (a
PYTHONDONTWRITEBYTECODE in the environment would have every render compile the package's modules,
but not the SDK's, which pip compiled at install).

`--check` fails (exit 1) when the package costs more than LIMIT times the floor at one service or
per extra service, or when a service costs more the more services there are: the speed assertions
the tests do not make (a wall clock is no test). `make bench` runs with it.

`--profile N` instead renders N services in this process under cProfile and prints where the
time goes (`--floor`: the floor's program). cProfile sees the main thread only: the mock engine's
work runs on the SDK's worker threads.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # floor.py, beside this script however it is loaded
import floor

SIZES = (1, 10, 50)
# `--check`: the package may cost at most LIMIT times the floor, at the first size and per extra service.
LIMIT = 1.2
# `--check`: each later step (seconds per extra service between two sizes) may cost at most GROWTH times
# the first step plus NOISE seconds; work that grows with the square of the services fails.
GROWTH = 2.0
NOISE = 0.02
STACK = "bench"
IMAGE = "deepset/hayhooks:v2.1.0@sha256:" + "ab" * 32
PIPELINE = """\
components:
  prompt_builder:
    type: haystack.components.builders.prompt_builder.PromptBuilder
    init_parameters:
      template: "Question: {{ question }}"
inputs:
  question: prompt_builder.question
outputs:
  prompt: prompt_builder.prompt
"""
# Every feature on, so each service registers the most resources it can: public with basic auth,
# secrets from a store and from config, an autoscaler. One namespace, created by the first, given to the others as
# its `namespace` output (the `namespace=` keyword), so that what they make waits for it.
PROGRAM = f"""\
import pulumi
from hayhooks_pulumi import HayhooksService

count = int(pulumi.Config().require("services"))
first = None
for index in range(count):
    service = HayhooksService(
        f"svc{{index}}",
        {{
            "image": "{IMAGE}",
            **({{"namespace": {{"name": "bench"}}}} if first is None else {{}}),
            "pipelinesPath": "pipelines",
            "requiredPipelines": ["ask"],
            "server": {{"cors": {{"allowOrigins": ["https://app.example.com"]}}}},
            "ingress": {{"host": f"svc{{index}}.example.com", "tlsSecretName": f"svc{{index}}-tls"}},
            "secretStore": {{"name": "vault"}},
            "secrets": {{
                "LLM_API_KEY": {{"fromStore": {{"remoteKey": f"bench/svc{{index}}"}}}},
                "WEBHOOK_TOKEN": {{"fromConfig": "webhookToken"}},
            }},
            "autoscaling": {{"enabled": True}},
        }},
        namespace=None if first is None else first.namespace,
        secret_values={{"WEBHOOK_TOKEN": pulumi.Output.secret("token")}},
    )
    first = first or service
"""


@dataclass(frozen=True)
class Run:
    services: int
    cpu: float
    """Seconds of CPU, user and system, of the render process and all its threads."""
    seconds: float
    """Wall-clock seconds."""
    peak_mib: float
    resources: int


@dataclass(frozen=True)
class Size:
    """One size's runs: the package's and the floor's side by side, each pair back to back, in the order they ran."""

    pairs: tuple[tuple[Run, Run], ...]

    @property
    def package(self) -> Run:
        return typical([package for package, _ in self.pairs])

    @property
    def floor(self) -> Run:
        return typical([floor_run for _, floor_run in self.pairs])

    def ratio(self) -> float:
        """The package's CPU time over the floor's: the median over the pairs."""
        return statistics.median(package.cpu / floor_run.cpu for package, floor_run in self.pairs)


def write_project(root: Path, services: int, name: str = "services") -> Path:
    project = root / f"{name}-{services}"
    (project / "pipelines").mkdir(parents=True)
    (project / "pipelines" / "ask.yml").write_text(PIPELINE)
    (project / "Pulumi.yaml").write_text("name: bench\nruntime: python\n")
    (project / f"Pulumi.{STACK}.yaml").write_text(f'config:\n  bench:services: "{services}"\n')
    (project / "__main__.py").write_text(PROGRAM)
    return project


def environment() -> dict[str, str]:
    """The renders' environment: this one, with Python's bytecode cache on (see the module's docstring)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def render(project: Path) -> Run:
    """One render in a fresh interpreter; its own CPU time and peak RSS (from wait4, not the shell's)."""
    out = project / "out"
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--project-dir", str(project), "--stack", STACK]
    start = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--out", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment()
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stdout, stderr = process.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"render of {project.name} failed:\n{stdout.decode()}\n{stderr.decode()}")
    return Run(
        services=int(project.name.rsplit("-", 1)[1]),
        cpu=usage.ru_utime + usage.ru_stime,
        seconds=seconds,
        peak_mib=usage.ru_maxrss / 1024,
        resources=int(stdout.decode().split("rendered ", 1)[1].split()[0]),
    )


def typical(runs: list[Run]) -> Run:
    """Each measure's median over repeated runs of one program."""
    return Run(
        services=runs[0].services,
        cpu=statistics.median(run.cpu for run in runs),
        seconds=statistics.median(run.seconds for run in runs),
        peak_mib=statistics.median(run.peak_mib for run in runs),
        resources=runs[0].resources,
    )


def same_resources(package: Path, floor_render: Path) -> bool:
    """Whether the floor's render holds the package's resources, inputs and auto-names, components left out."""

    def records(render_dir: Path) -> list[dict]:
        loaded = json.loads((render_dir / "resources.json").read_text())
        parents = {record["parent"] for record in loaded}
        return [{k: v for k, v in r.items() if k != "parent"} for r in loaded if r["name"] not in parents]

    return records(package) == records(floor_render)


def measure(sizes: tuple[int, ...], repeat: int) -> list[Size]:
    with tempfile.TemporaryDirectory(prefix="hayhooks-bench-") as tmp:
        packages = [write_project(Path(tmp), n) for n in sizes]
        floors = [write_project(Path(tmp), n, name="floor") for n in sizes]
        # Recording runs the largest program once, untimed: it also writes the bytecode caches the renders read.
        recording = floor.recorded(packages[-1], STACK, environment())
        for project, n in zip(floors, sizes, strict=True):
            floor.write_floor(project, floor.of_services(recording, n))
        pairs: list[list[tuple[Run, Run]]] = [[] for _ in sizes]
        for index in range(repeat):
            for runs, package, floor_project in zip(pairs, packages, floors, strict=True):
                # Which goes first alternates, so a machine getting busier or quieter favours neither.
                if index % 2 == 0:
                    package_run = render(package)
                    runs.append((package_run, render(floor_project)))
                else:
                    floor_run = render(floor_project)
                    runs.append((render(package), floor_run))
        for package, floor_project in zip(packages, floors, strict=True):
            if not same_resources(package / "out", floor_project / "out"):
                raise SystemExit(f"the floor of {package.name} does not register what the package does")
    return [Size(tuple(runs)) for runs in pairs]


def marginal(runs: list[Run]) -> tuple[float, float, float]:
    """CPU seconds, wall seconds and MiB per service beyond the smallest program (the fixed cost: interpreter,
    imports)."""
    first, last = runs[0], runs[-1]
    extra = last.services - first.services
    return (
        (last.cpu - first.cpu) / extra,
        (last.seconds - first.seconds) / extra,
        (last.peak_mib - first.peak_mib) / extra,
    )


def steps(runs: list[Run]) -> list[tuple[Run, Run, float]]:
    """Each pair of successive sizes and the CPU seconds per extra service between them."""
    return [
        (before, after, (after.cpu - before.cpu) / (after.services - before.services))
        for before, after in itertools.pairwise(runs)
    ]


def superlinear(runs: list[Run]) -> list[str]:
    """The steps that cost more per service than the first one allows (see GROWTH); empty when linear."""
    (_, _, first), *later = steps(runs)
    limit = GROWTH * max(first, 0.0) + NOISE
    return [
        f"{before.services} -> {after.services} services: {step * 1000:.0f} ms/service, more than {GROWTH:g} x "
        f"{first * 1000:.0f} ms (the {runs[0].services} -> {runs[1].services} step) + {NOISE * 1000:.0f} ms"
        for before, after, step in later
        if step > limit
    ]


def over_floor(sizes: list[Size]) -> tuple[float, float]:
    """The package's CPU time over the floor's: at the smallest size, and per extra service up to the largest (the
    median over the largest size's pairs of their costs beyond the smallest size's medians)."""
    first, last = sizes[0], sizes[-1]
    extra = last.package.services - first.package.services
    per_service = []
    for package, floor_run in last.pairs:
        floor_cost = (floor_run.cpu - first.floor.cpu) / extra
        package_cost = (package.cpu - first.package.cpu) / extra
        per_service.append(package_cost / floor_cost if floor_cost > 0 else float("inf"))
    return first.ratio(), statistics.median(per_service)


def above_limit(sizes: list[Size]) -> list[str]:
    """What costs more than LIMIT times the floor; empty when neither does."""
    at_first, per_service = over_floor(sizes)
    first = sizes[0].package.services
    return [
        f"{what}: {ratio:.2f} x the floor's CPU time, more than {LIMIT:g} x"
        for what, ratio in ((f"at {first} service{'s' * (first != 1)}", at_first), ("per extra service", per_service))
        if ratio > LIMIT
    ]


def report(sizes: list[Size]) -> str:
    columns = ["services", "resources", "cpu s", "floor", "x floor", "wall s", "floor", "x floor", "peak MiB"]
    lines = [" ".join(f"{column:>9}" for column in columns)]
    for size in sizes:
        run, base = size.package, size.floor
        cells = [
            f"{run.services}",
            f"{run.resources}",
            f"{run.cpu:.2f}",
            f"{base.cpu:.2f}",
            f"{size.ratio():.2f}",
            f"{run.seconds:.2f}",
            f"{base.seconds:.2f}",
            f"{statistics.median(p.seconds / f.seconds for p, f in size.pairs):.2f}",
            f"{run.peak_mib:.1f}",
        ]
        lines.append(" ".join(f"{cell:>9}" for cell in cells))
    cpu, wall, mib = marginal([size.package for size in sizes])
    floor_cpu, floor_wall, floor_mib = marginal([size.floor for size in sizes])
    lines.append(
        f"per extra service: {cpu * 1000:.0f} ms CPU (floor {floor_cpu * 1000:.0f} ms), {wall * 1000:.0f} ms wall "
        f"(floor {floor_wall * 1000:.0f} ms), {mib:.2f} MiB (floor {floor_mib:.2f} MiB)"
    )
    at_first, per_service = over_floor(sizes)
    first = sizes[0].package.services
    lines.append(
        f"over the floor (CPU): {at_first:.2f} x at {first} service{'s' * (first != 1)}, "
        f"{per_service:.2f} x per extra service"
    )
    for before, after, step in steps([size.package for size in sizes]):
        lines.append(f"  {before.services:>3} -> {after.services:<3} services: {step * 1000:.0f} ms CPU/service")
    return "\n".join(lines)


def profile(services: int, top: int, of_floor: bool) -> None:
    """Render `services` services in this process under cProfile (the mock engine, no files written)."""
    with tempfile.TemporaryDirectory(prefix="hayhooks-profile-") as tmp:
        project = write_project(Path(tmp), services)
        if of_floor:
            floor.write_floor(project, floor.recorded(project, STACK, environment()))
        from hayhooks_pulumi.render.cli import offline_render, run_program

        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        with offline_render():
            registrations, _ = run_program(project, STACK, project / f"Pulumi.{STACK}.yaml")
        profiler.disable()
        print(f"{services} services, {len(registrations)} resources in {time.perf_counter() - start:.2f} s")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__ or ""))
    parser.add_argument("--sizes", type=lambda s: tuple(int(x) for x in s.split(",")), default=SIZES)
    parser.add_argument("--repeat", type=int, default=5, help="pairs of renders per size; medians count")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 above {LIMIT:g} x the floor or when the cost per service grows"
    )
    parser.add_argument("--profile", type=int, metavar="N", help="profile N services in-process instead")
    parser.add_argument("--floor", action="store_true", help="with --profile: the floor's program")
    parser.add_argument("--top", type=int, default=40, help="functions the profile lists")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile, args.top, args.floor)
        return 0
    if args.check and len(args.sizes) < 3:
        parser.error("--check compares later steps with the first: give at least three sizes")
    sizes = measure(args.sizes, args.repeat)
    print(report(sizes))
    if args.check:
        failures = superlinear([size.package for size in sizes]) + above_limit(sizes)
        for line in failures:
            print(f"check failed: {line}")
        if failures:
            return 1
        print(f"check passed: within {LIMIT:g} x the floor; no step costs more than {GROWTH:g} x the first per service")
    return 0


if __name__ == "__main__":
    sys.exit(main())
