"""hayhooks_pulumi.recover: what it makes of an interrupted `up`'s state, and how it drives the CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hayhooks_pulumi.recover import RecoverError, object_id, plan, recover

COMPONENT = "urn:pulumi:prod::hayhooks::hayhooks:index:HayhooksService::hayhooks"


def pending(kind: str, name: str, metadata: dict[str, Any] | None, operation: str = "creating") -> dict[str, Any]:
    inputs = {"metadata": metadata} if metadata is not None else {"length": 32}
    urn = f"urn:pulumi:prod::hayhooks::hayhooks:index:HayhooksService${kind}::{name}"
    return {
        "type": operation,
        "resource": {"urn": urn, "custom": True, "type": kind, "parent": COMPONENT, "inputs": inputs},
    }


def state(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"version": 3, "deployment": {"resources": [{"urn": COMPONENT}], "pending_operations": list(operations)}}


def test_a_namespaced_object_is_named_by_namespace_and_name_a_cluster_scoped_one_by_name() -> None:
    service = pending("kubernetes:core/v1:Service", "svc", {"name": "http-hayhooks", "namespace": "hayhooks"})
    namespace = pending("kubernetes:core/v1:Namespace", "ns", {"name": "hayhooks"})
    assert object_id(service["resource"]) == "hayhooks/http-hayhooks"
    assert object_id(namespace["resource"]) == "hayhooks"
    assert object_id(pending("random:index/randomPassword:RandomPassword", "pw", None)["resource"]) is None
    assert object_id(pending("kubernetes:core/v1:Secret", "s", {"namespace": "hayhooks"})["resource"]) is None


def test_pending_creates_of_objects_move_into_the_state_and_the_rest_stay_for_the_refresh() -> None:
    service = pending("kubernetes:core/v1:Service", "svc", {"name": "http-hayhooks", "namespace": "hayhooks"})
    password = pending("random:index/randomPassword:RandomPassword", "pw", None)
    deleting = pending("kubernetes:core/v1:ConfigMap", "old", {"name": "x", "namespace": "hayhooks"}, "deleting")
    before = state(service, password, deleting)
    done = plan(before)

    assert done.adopted == [service["resource"]["urn"]]
    assert done.cleared == [password["resource"]["urn"]]
    deployment = done.state["deployment"]
    assert deployment["pending_operations"] == [password, deleting]
    adopted = deployment["resources"][-1]
    assert adopted["id"] == "hayhooks/http-hayhooks" and adopted["urn"] == service["resource"]["urn"]
    assert adopted["parent"] == COMPONENT and adopted["inputs"] == service["resource"]["inputs"]
    # Appended after what it refers to (the state must list a parent before its children).
    assert [r["urn"] for r in deployment["resources"]] == [COMPONENT, service["resource"]["urn"]]
    assert len(before["deployment"]["pending_operations"]) == 3, "the state given is left as it was"


class FakeCli:
    """Records the commands recover() runs; answers `stack export` with the state given."""

    def __init__(self, exported: dict[str, Any], fail: str | None = None) -> None:
        self.exported, self.fail = exported, fail
        self.commands: list[list[str]] = []
        self.imported: dict[str, Any] | None = None

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(args))
        if self.fail and args[0] == self.fail:
            return subprocess.CompletedProcess(list(args), 255, "", f"{self.fail}: refused by the backend")
        if list(args[:2]) == ["stack", "export"]:
            return subprocess.CompletedProcess(list(args), 0, json.dumps(self.exported), "")
        if list(args[:2]) == ["stack", "import"]:
            self.imported = json.loads(Path(args[args.index("--file") + 1]).read_text())
        return subprocess.CompletedProcess(list(args), 0, "", "")


def test_recover_unlocks_imports_the_adopted_state_then_refreshes_clearing_the_rest() -> None:
    service = pending("kubernetes:core/v1:Service", "svc", {"name": "http-hayhooks", "namespace": "hayhooks"})
    cli = FakeCli(state(service))
    done = recover("prod", Path("."), run=cli)
    assert [c[:2] for c in cli.commands] == [
        ["cancel", "--yes"],
        ["stack", "export"],
        ["stack", "import"],
        ["refresh", "--yes"],
    ]
    assert "--clear-pending-creates" in cli.commands[-1]
    assert cli.imported == done.state and cli.imported["deployment"]["pending_operations"] == []


def test_a_dry_run_changes_nothing_and_a_clean_stack_is_only_unlocked() -> None:
    service = pending("kubernetes:core/v1:Service", "svc", {"name": "http-hayhooks", "namespace": "hayhooks"})
    cli = FakeCli(state(service))
    assert recover("prod", Path("."), run=cli, dry_run=True).adopted == [service["resource"]["urn"]]
    assert cli.commands == [["stack", "export"]]
    clean = FakeCli(state())
    recover("prod", Path("."), run=clean)
    assert [c[0] for c in clean.commands] == ["cancel", "stack"]


def test_a_refusal_of_the_cli_is_reported_with_its_words() -> None:
    with pytest.raises(RecoverError, match="pulumi cancel failed: cancel: refused by the backend"):
        recover("prod", Path("."), run=FakeCli(state(), fail="cancel"))


def test_a_save_a_killed_run_left_halfway_on_a_file_backend_is_finished_and_said(tmp_path: Path) -> None:
    # What the file backend leaves when killed between writing the new checkpoint and renaming it into place.
    stacks = tmp_path / "backend" / ".pulumi" / "stacks" / "hayhooks"
    stacks.mkdir(parents=True)
    service = pending("kubernetes:core/v1:Service", "svc", {"name": "http-hayhooks", "namespace": "hayhooks"})
    (stacks / "prod.json").write_text(json.dumps({"version": 3, "checkpoint": {"latest": state()["deployment"]}}))
    newer = {"version": 3, "checkpoint": {"latest": state(service)["deployment"]}}
    (stacks / "prod.json.0123abcd.tmp").write_text(json.dumps(newer))
    (stacks / "prod.json.ffff0000.tmp").write_text('{"version": 3, "checkp')  # cut short: not a checkpoint
    attrs = stacks / "prod.json.attrs"
    attrs.write_text("")
    (stacks / "dev.json.attrs").write_text("")  # another stack's: not this recovery's to touch
    exported = FakeCli(state(service))

    def cli(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        if args[0] == "whoami":
            said = f"User: root\nBackend URL: file://{tmp_path / 'backend'}\n"
            return subprocess.CompletedProcess(list(args), 0, said, "")
        if attrs.exists():
            # What the CLI says while the metadata file is empty: it loads no checkpoint at all.
            return subprocess.CompletedProcess(list(args), 255, "", "error: failed to load checkpoint: EOF\n")
        return exported(args)

    done = recover("prod", tmp_path, run=cli)

    assert not attrs.exists() and (stacks / "dev.json.attrs").exists()
    # The interrupted save is in place, with the create it had begun: the recovery then adopts it.
    assert json.loads((stacks / "prod.json").read_text()) == newer
    assert done.repaired == [
        f"removed {attrs}: empty, left by a run killed while it saved the state",
        "finished that save: prod.json.0123abcd.tmp is now prod.json",
    ]
    assert done.adopted == [service["resource"]["urn"]]
    assert [c[0] for c in exported.commands] == ["cancel", "stack", "stack", "refresh"]


def test_a_checkpoint_that_fails_to_load_on_another_backend_is_reported_untouched() -> None:
    def cli(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        if args[0] == "whoami":
            return subprocess.CompletedProcess(list(args), 0, "Backend URL: s3://states\n", "")
        return subprocess.CompletedProcess(list(args), 255, "", "error: failed to load checkpoint: EOF\n")

    with pytest.raises(RecoverError, match="pulumi cancel failed: error: failed to load checkpoint: EOF"):
        recover("prod", Path("."), run=cli)
