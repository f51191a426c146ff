"""The real Pulumi engine running a project's own Python program, for the end-to-end tests.

    python e2e/engine.py OP --project DIR --stack NAME --result FILE [--events FILE] [--program FILE]
                         [--options JSON]

OP is `preview`, `up`, `refresh` or `destroy`. This side runs in the interpreter that has the project's
SDK: the Automation API (`pulumi.automation`) starts a language-runtime server in this process and runs
`pulumi OP --client=<it>`, so the engine asks this process to run the program, here an unchanged
`__main__.py` executed with `runpy` in the project folder (an "inline program": no
`pulumi-language-python` is involved). What the engine said (its events, the change summary, the stack's
outputs, its error) is written to FILE as JSON; `--events` also streams every event as one JSON line, as
it happens, for a test that acts in the middle of an update.

The test side imports `Engine`: it runs the above in a fresh interpreter per operation (the SDK keeps
global state, and a CI job runs one operation per process too), in a session of its own: the runner dies with
the test (PR_SET_PDEATHSIG), and whatever of the session is left (the CLI, its plugins) is killed when the
operation ends, on a timeout or when a test kills it. `Engine.cli` runs the plain `pulumi` CLI with the same
backend, passphrase and plugins (`stack output`, `config set --secret`, `cancel`, or `up` itself through
the Python language host). Standard library only on the test side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifetime import kill_session, launched, session_processes

HERE = Path(__file__).resolve().parent
# The interpreter the engine runs programs with (`make e2e-venv`): the project's requirements with the
# Kubernetes SDK at the version of the provider the toolchain builds, so that the two match exactly.
SDK_PYTHON = HERE.parent / ".venv-e2e" / "bin" / "python"
OPERATIONS = ("preview", "up", "refresh", "destroy")
# A local backend's passphrase for throwaway test stacks; never a real secret.
PASSPHRASE = "hayhooks-e2e-passphrase"
DEFAULT_TIMEOUT = 600.0
UNCHANGED = ("same", "read", "create-replacement", "delete-replaced")


# ------------------------------------------------------------------------------------------------ test side


@dataclass
class Outcome:
    """What the engine said about one operation."""

    op: str
    ok: bool
    error: str | None
    summary: dict[str, int]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    events: list[dict[str, Any]]
    stdout: str
    stderr: str

    def steps(self) -> list[tuple[str, str]]:
        """(op, resource name) of every step the engine finished, in order (`same` included)."""
        done = []
        for event in self.events:
            outputs = event.get("res_outputs_event")
            if outputs:
                metadata = outputs["metadata"]
                done.append((metadata["op"], metadata["urn"].rsplit("::", 1)[-1]))
        return done

    def planned(self) -> dict[str, str]:
        """Resource name -> op of every change the engine announced (a preview's plan): `same` and reads left
        out, a replacement once as `replace` (not its create-replacement and delete-replaced halves)."""
        ops = {}
        for event in self.events:
            pre = event.get("resource_pre_event")
            if pre and pre["metadata"]["op"] not in UNCHANGED:
                ops[pre["metadata"]["urn"].rsplit("::", 1)[-1]] = pre["metadata"]["op"]
        return ops

    def drift(self) -> str:
        """Each change the engine announced, with the properties it found different (for failure messages)."""
        lines = []
        for event in self.events:
            pre = event.get("resource_pre_event")
            if pre and pre["metadata"]["op"] not in UNCHANGED:
                metadata = pre["metadata"]
                detailed = {key: diff.get("kind") for key, diff in (metadata.get("detailed_diff") or {}).items()}
                keys = detailed or metadata.get("diffs") or metadata.get("keys") or []
                lines.append(f"{metadata['urn'].rsplit('::', 1)[-1]}: {metadata['op']} {keys}")
        return "\n".join(lines) or "(no change announced)"

    def diagnostics(self, severity: str | None = None) -> list[str]:
        found = []
        for event in self.events:
            diagnostic = event.get("diagnostic_event")
            if diagnostic and (severity is None or diagnostic.get("severity") == severity):
                found.append(diagnostic.get("message", ""))
        return found

    def policy_violations(self) -> list[dict[str, Any]]:
        return [event["policy_event"] for event in self.events if event.get("policy_event")]

    def urns(self) -> list[str]:
        return [e["resource_pre_event"]["metadata"]["urn"] for e in self.events if e.get("resource_pre_event")]

    def text(self) -> str:
        """Everything the engine printed, for failure messages; a preview's first says what drifted."""
        said = f"{self.error or ''}\n{self.stdout[-6000:]}\n{self.stderr[-4000:]}"
        return f"{self.drift()}\n{said}" if self.op == "preview" else said


@dataclass
class Running:
    """An operation started and not yet waited for (a fault test acts while it runs)."""

    engine: Engine
    op: str
    proc: subprocess.Popen[str]
    result_file: Path
    events_file: Path
    started: float = field(default_factory=time.monotonic)

    def events(self) -> list[dict[str, Any]]:
        """The events streamed so far (a partly written last line is left for the next look)."""
        if not self.events_file.exists():
            return []
        lines = self.events_file.read_text().split("\n")
        return [json.loads(line) for line in lines[:-1] if line]

    def kill(self) -> None:
        """SIGKILL the runner, the CLI and its plugins (their session), as a CI runner that dies takes them all."""
        kill_session(self.proc.pid)
        self.proc.wait(timeout=30)

    def survivors(self) -> list[tuple[int, str]]:
        """(pid, name) of every process of the operation still running (none, once it is killed or waited for)."""
        return session_processes(self.proc.pid)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> Outcome:
        try:
            said, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TimeoutError(f"pulumi {self.op} did not finish in {timeout:.0f} s") from None
        finally:
            # The CLI's plugins are in its session (each in a group of its own): none outlives the operation.
            kill_session(self.proc.pid)
        if not self.result_file.exists():
            raise RuntimeError(
                f"pulumi {self.op}: the engine runner wrote no result (exit {self.proc.returncode}):\n{said[-3000:]}"
            )
        data = json.loads(self.result_file.read_text())
        events = self.events()
        for event in events:
            pre = event.get("resource_pre_event")
            if pre:
                self.engine.types_seen.add(pre["metadata"]["type"])
        return Outcome(
            op=self.op,
            ok=data["error"] is None,
            error=data["error"],
            summary=data["summary"],
            outputs=data["outputs"],
            secret_outputs=set(data["secret_outputs"]),
            events=events,
            stdout=data["stdout"],
            stderr=data["stderr"],
        )


@dataclass
class Engine:
    """One stack of one project folder, with a file backend and a PULUMI_HOME of its own under `root`.

    `python` is the interpreter that has the project's SDK and runs the program; `path` is put first on
    PATH (the toolchain's `pulumi` and plugins, that interpreter's bin for `python` itself and the entry
    points the program installs, and anything a test adds, e.g. a stand-in provider)."""

    project: Path
    stack: str
    root: Path
    toolchain: Path
    python: Path
    path: tuple[Path, ...] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)
    program: Path | None = None
    # Every resource type the engine announced in this stack's operations (a test says what it relied on).
    types_seen: set[str] = field(default_factory=set)

    def environ(self) -> dict[str, str]:
        (self.root / "backend").mkdir(parents=True, exist_ok=True)
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        path = [*map(str, self.path), str(self.python.parent), str(self.toolchain / "bin")]
        return {
            **os.environ,
            "PATH": os.pathsep.join([*path, os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(self.root / "home"),
            "PULUMI_BACKEND_URL": (self.root / "backend").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # The Python language host (the plain CLI route) runs this interpreter, not the project's virtualenv.
            "PULUMI_PYTHON_CMD": str(self.python),
            **self.extra_env,
        }

    def start(self, op: str, **options: Any) -> Running:
        if op not in OPERATIONS:
            raise ValueError(f"unknown operation {op!r}; one of {', '.join(OPERATIONS)}")
        runs = self.root / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        stamp = f"{op}-{time.monotonic_ns()}"
        result_file, events_file = runs / f"{stamp}.json", runs / f"{stamp}.events"
        command = [str(self.python), str(Path(__file__).resolve()), op, "--project", str(self.project)]
        command += ["--stack", self.stack, "--result", str(result_file), "--events", str(events_file)]
        command += ["--toolchain", str(self.toolchain), "--options", json.dumps(options)]
        if self.program is not None:
            command += ["--program", str(self.program)]
        proc = subprocess.Popen(
            launched(command, dies_with_parent=True),
            cwd=self.project,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        return Running(self, op, proc, result_file, events_file)

    def run(self, op: str, timeout: float = DEFAULT_TIMEOUT, **options: Any) -> Outcome:
        return self.start(op, **options).wait(timeout)

    def preview(self, **options: Any) -> Outcome:
        return self.run("preview", **options)

    def up(self, **options: Any) -> Outcome:
        return self.run("up", **options)

    def destroy(self, **options: Any) -> Outcome:
        return self.run("destroy", **options)

    def refresh(self, **options: Any) -> Outcome:
        return self.run("refresh", **options)

    def cli(self, *args: str, timeout: float = DEFAULT_TIMEOUT, stack: bool = True) -> subprocess.CompletedProcess[str]:
        """The plain CLI in the project folder, non-interactive; it and its plugins are killed on a timeout."""
        command = [str(self.toolchain / "bin" / "pulumi"), *args, "--non-interactive"]
        if stack:
            command += ["--stack", self.stack]
        with subprocess.Popen(
            launched(command, dies_with_parent=True),
            cwd=self.project,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as proc:
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_session(proc.pid)
                stdout, stderr = proc.communicate()
                stderr += f"\n(killed: not finished in {timeout:.0f} s)"
            finally:
                kill_session(proc.pid)
        return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)

    def init(self) -> None:
        """`pulumi stack init`: the stack file's config is kept, the passphrase's salt added to it."""
        result = self.cli("stack", "init", self.stack, stack=False)
        if result.returncode != 0:
            raise RuntimeError(f"pulumi stack init {self.stack} failed: {result.stderr}")

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        """`pulumi config set [--secret] KEY VALUE`: written to the project's stack file, encrypted if secret."""
        result = self.cli("config", "set", *(["--secret"] if secret else []), key, value)
        if result.returncode != 0:
            raise RuntimeError(f"pulumi config set {key} failed: {result.stderr}")

    def stack_output(self, name: str) -> str:
        result = self.cli("stack", "output", name, "--show-secrets")
        if result.returncode != 0:
            raise RuntimeError(f"pulumi stack output {name} failed: {result.stderr}")
        return result.stdout.strip()

    def export(self) -> dict[str, Any]:
        """`pulumi stack export`: the state as the backend holds it (secrets encrypted)."""
        result = self.cli("stack", "export")
        if result.returncode != 0:
            raise RuntimeError(f"pulumi stack export failed: {result.stderr}")
        return dict(json.loads(result.stdout))

    def teardown(self, timeout: float = DEFAULT_TIMEOUT) -> Outcome | None:
        """Destroy the stack if it was made, whatever state a test left it in (a killed run's lock is removed
        first); never raises, so a clean-up never hides the failure before it."""
        if not (self.root / "backend" / ".pulumi" / "stacks").exists():
            return None
        try:
            self.cli("cancel", "--yes", timeout=60)
            if not self.resources():  # destroyed already (the stack resource goes with the last one)
                return None
            return self.run("destroy", timeout=timeout)
        except Exception:  # reported by the test's own failure, if any
            return None

    def pending_operations(self) -> list[dict[str, Any]]:
        return list(self.export().get("deployment", {}).get("pending_operations") or [])

    def resources(self) -> list[dict[str, Any]]:
        return list(self.export().get("deployment", {}).get("resources") or [])


# ------------------------------------------------------------------------------------------------ runner side


def _plain(value: Any) -> Any:
    """An engine event (the Automation API's objects) as JSON-ready data."""
    from enum import Enum

    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items() if v is not None and not k.startswith("_")}
    return value


def _runner(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="e2e/engine.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("op", choices=OPERATIONS)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--toolchain", type=Path, required=True, help="the folder whose bin/ holds pulumi")
    parser.add_argument("--program", type=Path, help="the program to run (default: the project's __main__.py)")
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--events", type=Path)
    parser.add_argument("--options", default="{}", help="keyword arguments of the Automation API call, as JSON")
    args = parser.parse_args(argv)

    import runpy

    import yaml
    from pulumi import automation as auto

    project = args.project.resolve()
    program_file = (args.program or project / "__main__.py").resolve()
    name = yaml.safe_load((project / "Pulumi.yaml").read_text())["name"]

    def program() -> None:
        # As the language host runs it: from the project folder, as `__main__`, importable siblings first.
        os.chdir(project)
        sys.path.insert(0, str(program_file.parent))
        runpy.run_path(str(program_file), run_name="__main__")

    events: list[dict[str, Any]] = []
    stream = args.events.open("w") if args.events else None

    def on_event(event: Any) -> None:
        data = _plain(event)
        events.append(data)
        if stream is not None:
            stream.write(json.dumps(data) + "\n")
            stream.flush()

    result: dict[str, Any] = {"error": None, "summary": {}, "outputs": {}, "secret_outputs": [], "stdout": ""}
    result["stderr"] = ""
    try:
        command = auto.PulumiCommand(root=str(args.toolchain))
        workspace = auto.LocalWorkspaceOptions(work_dir=str(project), pulumi_command=command)
        stack = auto.create_or_select_stack(args.stack, project_name=name, program=program, opts=workspace)
        options = json.loads(args.options)
        if args.op != "preview":
            # The summary's config secrets are not read here; showing them makes `stack history` derive the
            # passphrase's key (a million PBKDF2 rounds, 0.3 s of CPU) once more per operation.
            options.setdefault("show_secrets", False)
        done = getattr(stack, args.op)(on_event=on_event, color="never", **options)
        result["stdout"], result["stderr"] = done.stdout, done.stderr
        changes = getattr(done, "change_summary", None) or getattr(done.summary, "resource_changes", None)
        result["summary"] = {str(_plain(k)): v for k, v in (changes or {}).items()}
        if args.op == "up":
            result["outputs"] = {k: v.value for k, v in done.outputs.items()}
            result["secret_outputs"] = sorted(k for k, v in done.outputs.items() if v.secret)
    except auto.CommandError as error:
        result["error"] = str(error)
        result["stdout"] = getattr(error, "stdout", "") or ""
        result["stderr"] = getattr(error, "stderr", "") or ""
    finally:
        if stream is not None:
            stream.close()
    args.result.write_text(json.dumps(result, default=str))
    return 0 if result["error"] is None else 1


if __name__ == "__main__":
    sys.exit(_runner(sys.argv[1:]))
