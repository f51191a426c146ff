"""How a process the end-to-end pieces start ends: `terminate` stops its process group, `kill_session` its
session; and it ends with the process that started it, however that one ends (a failed test, a timeout, SIGKILL):
`setpriv --pdeathsig KILL` (util-linux) sets PR_SET_PDEATHSIG and execs the command. Nothing of the parent's
interpreter runs between fork and exec, as a `preexec_fn` would; Python documents that as unsafe in a process with
threads, and the tests start engines from several at once. The kernel sends the signal when the thread that started
the child ends: start long-lived processes from the main thread. Standard library only."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from typing import Any

DIE_WITH_PARENT = ("setpriv", "--pdeathsig", "KILL", "--")
# Seconds a process is given to stop after SIGTERM before SIGKILL.
GRACE_SECONDS = 10.0


def launched(command: Sequence[str], *, dies_with_parent: bool) -> list[str]:
    """`command` as it is started: behind `setpriv` when it is to die with its parent."""
    if not dies_with_parent:
        return list(command)
    if shutil.which(DIE_WITH_PARENT[0]) is None:
        raise FileNotFoundError(f"{DIE_WITH_PARENT[0]} is missing (it is in util-linux): cannot start {command[0]}")
    return [*DIE_WITH_PARENT, *command]


def terminate(pid: int, proc: subprocess.Popen[Any] | None, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the process group, SIGKILL it after `grace` seconds (at once without any). `proc`: the process, when
    this program started it (else it is known by its pid, e.g. from a pid file)."""
    if grace > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid, proc):
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def _alive(pid: int, proc: subprocess.Popen[Any] | None) -> bool:
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def session_processes(sid: int) -> list[tuple[int, str]]:
    """(pid, name) of every live process of session `sid` (zombies left out: they have ended, only not been reaped
    yet). A process started with `start_new_session=True` leads a session whose id is its pid."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:  # ended meanwhile
            continue
        name, _, rest = text.partition(" (")[2].rpartition(")")
        state, _ppid, _group, session = rest.split()[:4]
        if int(session) == sid and state != "Z":
            found.append((int(entry.name), name))
    return found


def kill_session(sid: int, timeout: float = 10.0) -> None:
    """SIGKILL every process of session `sid`, and wait (at most `timeout` seconds) until none is left. A process
    group is not enough for the Pulumi CLI: it starts each plugin in a group of its own, so SIGKILL to the CLI's
    group left its providers running, orphaned. Sent again while any is left: one may have been started during the
    look, and one in uninterruptible sleep (an fsync) ends only when it wakes."""
    deadline = time.monotonic() + timeout
    while (left := session_processes(sid)) and time.monotonic() < deadline:
        for pid, _name in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
