"""`make bench`: render programs of 1, 10 and 50 HayhooksServices; wall time, peak memory, marginal cost.

Each program is a generated Pulumi project in a temporary directory (its own Pulumi.yaml, stack
file, pipelines and __main__.py) rendered by the package's own CLI in a fresh interpreter, as
`make render` does, so the figures include start-up and imports. Each size runs `--repeat` times;
the fastest run counts (the others measure the machine's noise, not the code).

`--check` also fails (exit 1) when a service costs more the more services there are: the speed
assertion the tests do not make (a wall clock is no test), measured against a floor taken in the
same run, so a slow machine moves the floor and not the verdict. `make bench` runs with it.

`--profile N` instead renders N services in this process under cProfile and prints where the
time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import pstats
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

SIZES = (1, 10, 50)
# `--check`: each later step (seconds per extra service between two sizes) may cost at most GROWTH times
# the first step, the floor, plus NOISE seconds; work that grows with the square of the services fails.
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
# secrets from a store and from config, an autoscaler. One namespace, created by the first.
PROGRAM = f"""\
import pulumi
from hayhooks_pulumi import HayhooksService

count = int(pulumi.Config().require("services"))
for index in range(count):
    HayhooksService(
        f"svc{{index}}",
        {{
            "image": "{IMAGE}",
            "namespace": {{"name": "bench", "create": index == 0}},
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
        secret_values={{"WEBHOOK_TOKEN": pulumi.Output.secret("token")}},
    )
"""


@dataclass(frozen=True)
class Run:
    services: int
    seconds: float
    peak_mib: float
    resources: int


def write_project(root: Path, services: int) -> Path:
    project = root / f"services-{services}"
    (project / "pipelines").mkdir(parents=True)
    (project / "pipelines" / "ask.yml").write_text(PIPELINE)
    (project / "Pulumi.yaml").write_text("name: bench\nruntime: python\n")
    (project / f"Pulumi.{STACK}.yaml").write_text(f'config:\n  bench:services: "{services}"\n')
    (project / "__main__.py").write_text(PROGRAM)
    return project


def render(project: Path) -> Run:
    """One render in a fresh interpreter; its own wall time and peak RSS (from wait4, not the shell's)."""
    out = project / "out"
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--project-dir", str(project), "--stack", STACK]
    start = time.perf_counter()
    process = subprocess.Popen([*command, "--out", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stdout, stderr = process.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"render of {project.name} failed:\n{stdout.decode()}\n{stderr.decode()}")
    resources = int(stdout.decode().split("rendered ", 1)[1].split()[0])
    services = int(project.name.split("-")[1])
    return Run(services=services, seconds=seconds, peak_mib=usage.ru_maxrss / 1024, resources=resources)


def measure(sizes: tuple[int, ...], repeat: int) -> list[Run]:
    with tempfile.TemporaryDirectory(prefix="hayhooks-bench-") as tmp:
        projects = [write_project(Path(tmp), n) for n in sizes]
        best: dict[int, Run] = {}
        for _ in range(repeat):
            for project in projects:
                run = render(project)
                if run.services not in best or run.seconds < best[run.services].seconds:
                    best[run.services] = run
    return [best[n] for n in sizes]


def marginal(runs: list[Run]) -> tuple[float, float]:
    """Seconds and MiB per service beyond the smallest program (the fixed cost: interpreter, imports)."""
    first, last = runs[0], runs[-1]
    extra = last.services - first.services
    return (last.seconds - first.seconds) / extra, (last.peak_mib - first.peak_mib) / extra


def steps(runs: list[Run]) -> list[tuple[Run, Run, float]]:
    """Each pair of successive sizes and the seconds per extra service between them."""
    return [
        (before, after, (after.seconds - before.seconds) / (after.services - before.services))
        for before, after in itertools.pairwise(runs)
    ]


def superlinear(runs: list[Run]) -> list[str]:
    """The steps that cost more per service than the first one allows (see GROWTH); empty when linear."""
    (_, _, floor), *later = steps(runs)
    limit = GROWTH * max(floor, 0.0) + NOISE
    return [
        f"{before.services} -> {after.services} services: {step * 1000:.0f} ms/service, more than {GROWTH:g} x "
        f"{floor * 1000:.0f} ms (the {runs[0].services} -> {runs[1].services} step) + {NOISE * 1000:.0f} ms"
        for before, after, step in later
        if step > limit
    ]


def report(runs: list[Run]) -> str:
    lines = [f"{'services':>8} {'resources':>9} {'wall s':>8} {'peak MiB':>9} {'s/service':>10}"]
    for run in runs:
        lines.append(
            f"{run.services:>8} {run.resources:>9} {run.seconds:>8.2f} {run.peak_mib:>9.1f} "
            f"{run.seconds / run.services:>10.3f}"
        )
    per_second, per_mib = marginal(runs)
    lines.append(f"marginal cost per extra service: {per_second * 1000:.0f} ms, {per_mib:.2f} MiB")
    for before, after, step in steps(runs):
        lines.append(f"  {before.services:>3} -> {after.services:<3} services: {step * 1000:.0f} ms/service")
    return "\n".join(lines)


def profile(services: int, top: int) -> None:
    """Render `services` services in this process under cProfile (the mock engine, no files written)."""
    with tempfile.TemporaryDirectory(prefix="hayhooks-profile-") as tmp:
        project = write_project(Path(tmp), services)
        from hayhooks_pulumi.render.cli import run_program

        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        registrations, _ = run_program(project, STACK, project / f"Pulumi.{STACK}.yaml")
        profiler.disable()
        print(f"{services} services, {len(registrations)} resources in {time.perf_counter() - start:.2f} s")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__ or ""))
    parser.add_argument("--sizes", type=lambda s: tuple(int(x) for x in s.split(",")), default=SIZES)
    parser.add_argument("--repeat", type=int, default=3, help="renders per size; the fastest counts")
    parser.add_argument("--check", action="store_true", help="exit 1 when the cost per service grows with the size")
    parser.add_argument("--profile", type=int, metavar="N", help="profile N services in-process instead")
    parser.add_argument("--top", type=int, default=40, help="functions the profile lists")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile, args.top)
        return 0
    if args.check and len(args.sizes) < 3:
        parser.error("--check compares later steps with the first: give at least three sizes")
    runs = measure(args.sizes, args.repeat)
    print(report(runs))
    if args.check:
        growing = superlinear(runs)
        for line in growing:
            print(f"check failed: {line}")
        if growing:
            return 1
        print(f"check passed: no step costs more than {GROWTH:g} x the first per service")
    return 0


if __name__ == "__main__":
    sys.exit(main())
