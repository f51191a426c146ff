"""Pulumi components that run Hayhooks as its production guide says.

Public API: import from here, not from submodules.
"""

from ._version import __version__
from .docker.args import HayhooksContainerArgs
from .docker.component import HayhooksContainer
from .errors import ConfigError, Problem
from .image import ImageRef, parse_image
from .kubernetes.args import HayhooksServiceArgs
from .kubernetes.component import HayhooksService
from .profile import Profile
from .settings import CorsSettings, ServerSettings, server_env
from .stack_config import StackConfig, Target, load_stack_config

__all__ = [
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
