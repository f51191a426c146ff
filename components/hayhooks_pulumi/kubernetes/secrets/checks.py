"""What each secret source needs besides itself: its value, its store, its CSI class; and a CSI mount of its own."""

from __future__ import annotations

from ...errors import Problem
from ...planning import Problems, check_secret_names, missing_secret, overlaps
from ...server.checks import name_case_problems
from ...server.env import plain_env
from ...server.facts import HOME_DIR, TMP_DIR
from ..args import HayhooksServiceArgs
from ..proposal import Proposal
from .models import SecretSource


def source_problems(
    args: HayhooksServiceArgs, source: SecretSource, path: str, value_key: str, given: bool
) -> list[Problem]:
    """What one secret source needs besides itself: its value (`secret_values[value_key]`, `given` when there is
    one), its store, its CSI class."""
    problems = []
    if source.from_config is not None and not given:
        problems.append(Problem(f"{path}.fromConfig", missing_secret(value_key, source.from_config)))
    if source.from_store is not None and args.secret_store is None:
        problems.append(
            Problem("secretStore", f"required by {path}.fromStore: name the (Cluster)SecretStore to read from")
        )
    if source.from_csi is not None and args.secret_provider_class is None:
        problems.append(
            Problem(
                "secretProviderClass",
                f"required by {path}.fromCsi: name the CSI provider (and its parameters) that mounts the object",
            )
        )
    return problems


def secret_problems(proposal: Proposal) -> list[Problem]:
    """Each secret variable is set once (not also a plain one) and has what its source needs."""
    args = proposal.args
    found = Problems()
    check_secret_names(found, args.secrets, plain_env(args.server))
    problems = list(found.items)
    for env_name, source in args.secrets.items():
        problems += source_problems(args, source, f"secrets.{env_name}", env_name, env_name in proposal.given)
    return problems


def production_problems(proposal: Proposal) -> list[Problem]:
    """Production refuses a secret variable whose name is not upper case (`openai_api_key`)."""
    return name_case_problems({f"secrets.{name}": name for name in proposal.args.secrets})


def mount_problems(proposal: Proposal) -> list[Problem]:
    """The CSI mount must not hide, or be hidden by, another mount of the container."""
    args = proposal.args
    if args.secret_provider_class is None:
        return []
    mount = args.secret_provider_class.mount_path
    return [
        Problem("secretProviderClass.mountPath", f"{mount} overlaps the container's mount at {other}")
        for other in (args.server.pipelines_dir, TMP_DIR, HOME_DIR)
        if overlaps(mount, other)
    ]
