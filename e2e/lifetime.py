"""How a process the end-to-end pieces start ends with the process that started it, however that one ends (a
failed test, a timeout, SIGKILL): `setpriv --pdeathsig KILL` (util-linux) sets PR_SET_PDEATHSIG and execs the
command. Nothing of the parent's interpreter runs between fork and exec, as a `preexec_fn` would; Python documents
that as unsafe in a process with threads, and the tests start engines from several at once. The kernel sends the
signal when the thread that started the child ends: start long-lived processes from the main thread. Standard
library only."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

DIE_WITH_PARENT = ("setpriv", "--pdeathsig", "KILL", "--")


def launched(command: Sequence[str], *, dies_with_parent: bool) -> list[str]:
    """`command` as it is started: behind `setpriv` when it is to die with its parent."""
    if not dies_with_parent:
        return list(command)
    if shutil.which(DIE_WITH_PARENT[0]) is None:
        raise FileNotFoundError(f"{DIE_WITH_PARENT[0]} is missing (it is in util-linux): cannot start {command[0]}")
    return [*DIE_WITH_PARENT, *command]
