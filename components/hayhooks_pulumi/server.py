"""How both targets start the server and ask it for its status: one command line, one status URL."""

from __future__ import annotations

STATUS_PATH = "/status"


def run_command(host: str, port: int, workers: int) -> list[str]:
    """`hayhooks run` with host, port and workers explicit (the image's CMD sets only the host)."""
    return ["hayhooks", "run", "--host", host, "--port", str(port), "--workers", str(workers)]


def status_url(port: int) -> str:
    """`/status` from inside the container, for the exec/CMD checks written in the image's Python (no curl)."""
    return f"http://127.0.0.1:{port}{STATUS_PATH}"
