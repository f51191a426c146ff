"""Pulumi components that run Hayhooks as its production guide says.

Public API: import from here, not from submodules. Names load on first use, so a submodule
(the policy pack, the render, the plugin) does not pay for both providers' SDKs.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

# Public name -> the submodule that defines it.
_EXPORTS = {
    "ConfigError": ".errors",
    "CorsSettings": ".server.cors",
    "HayhooksContainer": ".docker.component",
    "HayhooksContainerArgs": ".docker.args",
    "HayhooksService": ".kubernetes.component",
    "HayhooksServiceArgs": ".kubernetes.args",
    "ImageRef": ".image",
    "Problem": ".errors",
    "Profile": ".profile",
    "ServerSettings": ".server.models",
    "StackConfig": ".stack_config",
    "Target": ".stack_config",
    "load_stack_config": ".stack_config",
    "parse_image": ".image",
    "server_env": ".server.env",
}

__all__ = [  # kept equal to _EXPORTS by tests/project/test_packaging.py
    "ConfigError",
    "CorsSettings",
    "HayhooksContainer",
    "HayhooksContainerArgs",
    "HayhooksService",
    "HayhooksServiceArgs",
    "ImageRef",
    "Problem",
    "Profile",
    "ServerSettings",
    "StackConfig",
    "Target",
    "__version__",
    "load_stack_config",
    "parse_image",
    "server_env",
]


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from .docker.args import HayhooksContainerArgs
    from .docker.component import HayhooksContainer
    from .errors import ConfigError, Problem
    from .image import ImageRef, parse_image
    from .kubernetes.args import HayhooksServiceArgs
    from .kubernetes.component import HayhooksService
    from .profile import Profile
    from .server.cors import CorsSettings
    from .server.env import server_env
    from .server.models import ServerSettings
    from .stack_config import StackConfig, Target, load_stack_config
