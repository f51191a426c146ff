"""Facts of the Hayhooks server and its image that the builders of both targets and the policy pack read.

Plain constants and functions, importing nothing: the policy pack runs them in its own interpreter, and a fact
written here is the one copy of it (a port, a route, a mount, the command line).
"""

from __future__ import annotations

DEFAULT_PORT = 1416
# The MCP and A2A servers' ports: pinned by the component, so a Service link variable cannot replace them.
MCP_PORT = 1417
A2A_PORT = 1418

# The server's logger still reads this legacy alias of HAYHOOKS_LOG_LEVEL.
LEGACY_LOG_LEVEL = "LOG"

# "Any" in the server's CORS lists (Starlette's middleware).
WILDCARD = "*"

STATUS_PATH = "/status"
# Routes API clients use; the public edge routes these (plus each pipeline's `/<name>/run`) and nothing else.
CLIENT_PATHS = (
    "/chat/completions",
    "/v1/chat/completions",
    "/responses",
    "/v1/responses",
    "/models",
    "/v1/models",
)
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")
# Never routed: they run arbitrary code (outside durable mode). /traces, /files, /draw are local tooling.
UPLOAD_PATHS = ("/deploy_files", "/deploy-yaml", "/undeploy")

# The server's writable mounts in both targets: HOME (telemetry, caches) and /tmp (wrapper copies, uploads).
HOME_DIR = "/home/hayhooks"
TMP_DIR = "/tmp"
# What the image ships that a mount on, above or inside would hide: its venv and the system directories.
IMAGE_DIRS = ("/bin", "/dev", "/etc", "/lib", "/lib64", "/opt/venv", "/proc", "/sbin", "/sys", "/usr")


# The stdlib loggers the server routes into its own log (`HAYHOOKS_INTERCEPTED_LOGGERS`'s default), and those of
# them whose records carry uvicorn's `color_message`: ANSI colour codes the server writes as they are, whether or
# not its stderr is a terminal ("Started server process [\x1b[36m1\x1b[0m]").
INTERCEPTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi")
COLOURED_LOGGERS = ("uvicorn", "uvicorn.error")

# The least memory limit production accepts, in MiB, on both targets. Measured: the server's resident set after
# start-up and 40 pipeline runs, Hayhooks 2.1.0 in durable mode with this repository's example pipelines,
# was 119 MiB (VmHWM); a limit below that is an OOM kill before the first request. The floor is that and half
# again, rounded up to 64 MiB (docs/workloads.md#memory), for a different Python build in the image and the first
# requests; real pipelines need more, which only the user can know.
MEASURED_SERVER_MIB = 119
MIN_MEMORY_LIMIT_MIB = 192


def run_command(host: str, port: int, workers: int) -> list[str]:
    """`hayhooks run` with host, port and workers explicit (the image's CMD sets only the host)."""
    return ["hayhooks", "run", "--host", host, "--port", str(port), "--workers", str(workers)]


def status_url(port: int) -> str:
    """`/status` from inside the container, for the exec/CMD checks written in the image's Python (no curl)."""
    return f"http://127.0.0.1:{port}{STATUS_PATH}"
