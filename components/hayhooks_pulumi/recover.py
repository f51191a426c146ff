"""Put a stack right after an interrupted `pulumi up` (a CI runner killed, a laptop closed), before the next `up`.

    python -m hayhooks_pulumi.recover --stack <stack> [--cwd <project>] [--dry-run]
    (also installed as `hayhooks-pulumi-recover`; `make recover STACK=<stack>` in this repository)

An interrupted `up` leaves the stack locked (on a file or cloud-storage backend) and records the operations it
had started as *pending*. A pending create may have made its object in the cluster or not: the engine cannot
tell, so every later `up` warns, and a plain `up` creates the object again (pulumi-kubernetes from 4.29 on
refuses with "already exists"; older releases adopt it silently). Pulumi's own remedy, `pulumi refresh
--import-pending-creates`, drops those creates in the Pulumi CLI this was tested with (3.274.1) without adding
anything to the state. So this does it with the CLI's state commands, non-interactively:

1. `pulumi cancel --yes`: the lock goes;
2. `pulumi stack export`: each pending create of a Kubernetes object is written into the state as that object,
   with the ID its inputs name (`<namespace>/<name>`: the provider had named it before creating), and the other
   pending creates (a RandomPassword, say) are left pending; `pulumi stack import` stores the result;
3. `pulumi refresh --yes --clear-pending-creates`: the refresh reads each object from the cluster, keeping those
   that exist (with what the cluster holds) and dropping those the interrupted run never made, and clears the
   creates left pending.

The next `pulumi up` then creates only what is missing and changes nothing twice.

On a file backend (`pulumi login file://...`, `--local`) a run killed while it saved the state can leave that save
halfway, and every command then fails with "failed to load checkpoint: EOF": the save is finished first, and said
(`repair_interrupted_save`). Standard library only.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CREATING = "creating"
KUBERNETES = "kubernetes:"
PROVIDER = "pulumi:providers:"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class RecoverError(RuntimeError):
    pass


@dataclass
class Plan:
    """What recovery does to a stack's state."""

    adopted: list[str] = field(default_factory=list)
    """URNs of pending creates written into the state as the object their inputs name."""
    cleared: list[str] = field(default_factory=list)
    """URNs of pending creates left for the refresh to clear (nothing in the cluster to look up)."""
    state: dict[str, Any] = field(default_factory=dict)
    repaired: list[str] = field(default_factory=list)
    """What was done to finish a save of the state that a killed run left halfway (file backends)."""


def object_id(resource: dict[str, Any]) -> str | None:
    """The provider ID of the Kubernetes object a pending create was making: `<namespace>/<name>`, or `<name>` for
    a cluster-scoped one; None when it is no Kubernetes object or names none."""
    kind = resource.get("type", "")
    if not kind.startswith(KUBERNETES) or not resource.get("custom"):
        return None
    metadata = (resource.get("inputs") or {}).get("metadata") or {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name:
        return None
    return f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name


def plan(state: dict[str, Any]) -> Plan:
    """The state with each adoptable pending create moved into its resources (appended: whatever it depends on is
    already there, and nothing depends on it yet)."""
    state = copy.deepcopy(state)
    deployment = state.get("deployment") or {}
    resources = deployment.setdefault("resources", [])
    kept, done = [], Plan(state=state)
    for operation in deployment.get("pending_operations") or []:
        resource = operation.get("resource") or {}
        ident = object_id(resource) if operation.get("type") == CREATING else None
        if ident is None:
            if operation.get("type") == CREATING:
                done.cleared.append(resource.get("urn", "?"))
            kept.append(operation)
            continue
        resources.append({**resource, "id": ident, "outputs": resource.get("inputs") or {}})
        done.adopted.append(resource["urn"])
    deployment["pending_operations"] = kept
    return done


def _whole_checkpoint(path: Path) -> bool:
    try:
        raw = gzip.decompress(path.read_bytes()) if ".json.gz." in path.name else path.read_bytes()
        saved = json.loads(raw)
    except (OSError, ValueError, EOFError):
        return False
    return isinstance(saved, dict) and "version" in saved and "checkpoint" in saved


def repair_interrupted_save(backend_url: str, stack: str) -> list[str]:
    """Finish a save of the stack's checkpoint that a killed run left halfway on a file backend; what was done.

    The backend writes the new checkpoint to `<stack>.json.<random>.tmp`, then its metadata file
    (`<stack>.json.attrs`), then renames the first over `<stack>.json`. Killed in between, it leaves the metadata
    empty, which no command can load ("failed to load checkpoint: EOF"), and the new checkpoint, with the
    operations the run had begun, beside the old one. The empty metadata goes (the backend reads a missing one as
    the default) and the newest whole checkpoint of the interrupted save takes the old one's place, as the rename
    would have. Nothing for another backend."""
    if not backend_url.startswith("file://"):
        return []
    root = Path(backend_url.removeprefix("file://")).expanduser() / ".pulumi" / "stacks"
    name = stack.rsplit("/", 1)[-1]
    done = []
    for attrs in sorted(p for suffix in ("json", "json.gz") for p in root.rglob(f"{name}.{suffix}.attrs")):
        if attrs.stat().st_size:
            continue
        checkpoint = attrs.with_suffix("")
        attrs.unlink()
        done.append(f"removed {attrs}: empty, left by a run killed while it saved the state")
        saves = sorted(checkpoint.parent.glob(f"{checkpoint.name}.*.tmp"), key=lambda p: p.stat().st_mtime)
        whole = [save for save in saves if _whole_checkpoint(save)]
        if whole:
            os.replace(whole[-1], checkpoint)
            done.append(f"finished that save: {whole[-1].name} is now {checkpoint.name}")
    return done


def _backend_url(run: Runner) -> str:
    said = run(["whoami", "--verbose"])
    lines = [line for line in said.stdout.splitlines() if line.startswith("Backend URL:")]
    return lines[0].split(":", 1)[1].strip() if lines else ""


def _pulumi(stack: str, cwd: Path, pulumi: str) -> Runner:
    def run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        # `whoami` is about the login, not a stack, and takes no --stack.
        command = [pulumi, *args, *([] if args[0] == "whoami" else ["--stack", stack]), "--non-interactive"]
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)

    return run


def recover(stack: str, cwd: Path, *, pulumi: str = "pulumi", dry_run: bool = False, run: Runner | None = None) -> Plan:
    """Unlock the stack, adopt or clear its pending creates, refresh; raises RecoverError with the CLI's words."""
    cli = run or _pulumi(stack, cwd, pulumi)
    repaired: list[str] = []

    def attempt(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        said = cli(args)
        if said.returncode != 0 and "failed to load checkpoint" in said.stderr and not repaired and not dry_run:
            repaired.extend(repair_interrupted_save(_backend_url(cli), stack))
            if repaired:
                said = cli(args)
        return said

    if not dry_run:
        cancelled = attempt(["cancel", "--yes"])
        if cancelled.returncode != 0 and "no update" not in (cancelled.stderr + cancelled.stdout).lower():
            raise RecoverError(f"pulumi cancel failed: {cancelled.stderr.strip() or cancelled.stdout.strip()}")
    exported = attempt(["stack", "export"])
    if exported.returncode != 0:
        raise RecoverError(f"pulumi stack export failed: {exported.stderr.strip()}")
    done = plan(json.loads(exported.stdout))
    done.repaired = repaired
    if dry_run or not (done.adopted or done.cleared):
        return done
    with tempfile.TemporaryDirectory(prefix="hayhooks-recover-") as scratch:
        path = Path(scratch) / "state.json"
        path.write_text(json.dumps(done.state))
        imported = attempt(["stack", "import", "--file", str(path)])
        if imported.returncode != 0:
            raise RecoverError(f"pulumi stack import failed: {imported.stderr.strip()}")
    refreshed = attempt(["refresh", "--yes", "--skip-preview", "--clear-pending-creates"])
    if refreshed.returncode != 0:
        raise RecoverError(f"pulumi refresh failed:\n{refreshed.stdout[-3000:]}\n{refreshed.stderr.strip()}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hayhooks-pulumi-recover", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the stack whose `up` was interrupted")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the project folder (default: here)")
    parser.add_argument("--pulumi", default="pulumi", help="the Pulumi CLI to run (default: pulumi on PATH)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    args = parser.parse_args(argv)
    try:
        done = recover(args.stack, args.cwd, pulumi=args.pulumi, dry_run=args.dry_run)
    except (RecoverError, OSError, json.JSONDecodeError) as error:
        print(f"recover: {error}", file=sys.stderr)
        return 1
    for step in done.repaired:
        print(step)
    verb = "would adopt" if args.dry_run else "adopted"
    for urn in done.adopted:
        print(f"{verb} {urn.rsplit('::', 1)[-1]}: its object, if the interrupted run made it, is in the state")
    for urn in done.cleared:
        print(f"{'would clear' if args.dry_run else 'cleared'} the pending create of {urn.rsplit('::', 1)[-1]}")
    if not (done.adopted or done.cleared):
        print(f"stack {args.stack!r} has no pending creates{'' if args.dry_run else '; its lock is gone'}")
    if not args.dry_run:
        print(f"next: pulumi up --stack {args.stack}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
