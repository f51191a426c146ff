"""The prod stack's pod, emulated from the render only (tests/live/kubelet.py), runs the real Hayhooks server: what
the real node (tests/e2e/test_prod.py: the pods under a real kubelet) does not show, and only that:

- the readiness check failing when a required pipeline is not loaded (the real pods have them all);
- the server's own CORS answers with the prod env (in the cluster the edge answers first);
- the service-link trap: with links on and a Service named like the server, the pod crashes (a negative control
  no deployment should make), and the rendered Services' link variables would never land on `HAYHOOKS_*`;
- the start-up time against the startup probe's budget (three times over), and a SIGTERM as the kubelet sends it
  stopping the server within the grace period with a clean exit.

One server per module (see `live_server`): these tests read it and must not change it, except the
last one, which stops it the way the kubelet does.
"""

from __future__ import annotations

import copy
import json
import re
import signal
import time
from pathlib import Path

import pytest
from hayhooks_pulumi.kubernetes.workload.deployment import readiness_script
from hayhooks_pulumi.pipelines import load_pipelines
from helpers.paths import REPO
from helpers.processes import free_port, scratch_dir, start_process, stop_process

from .kubelet import (
    MASTER_SERVICE_ENV,
    Render,
    materialise,
    run_probe,
    service_link_env,
)
from .support import startup_budget

pytestmark = pytest.mark.live

LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "SUCCESS": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| (?P<level>[A-Z]+) +\|", re.MULTILINE)
TRACEBACK_MARKERS = ("Traceback", 'File "', "site-packages", ".py:", "line ")


def pipeline_names(config) -> tuple[str, ...]:
    return load_pipelines(REPO / config["pipelinesPath"]).names


def test_readiness_exec_probe_fails_when_a_required_pipeline_is_missing(live_server, prod_config):
    """The several-pipelines probe reads `"pipelines"` of the real /status: a name not loaded makes it exit 1."""
    container = live_server.pod.container
    assert "exec" in container["readinessProbe"], "the prod stack requires several pipelines: an exec probe"
    port = container["ports"][0]["containerPort"]
    probe = copy.deepcopy(container["readinessProbe"])
    required = [*prod_config["requiredPipelines"], "no-such-pipeline"]
    probe["exec"]["command"][2] = readiness_script(port, required)
    result = run_probe(live_server.pod, probe)
    assert not result.ok and "no-such-pipeline" in result.detail, result.detail
    probe["exec"]["command"][2] = readiness_script(port, prod_config["requiredPipelines"])
    assert run_probe(live_server.pod, probe).ok


def preflight(server, origin: str, method: str = "POST", headers: str = "Content-Type"):
    return server.request(
        "OPTIONS",
        "/greeter/run",
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


def test_cors_preflight_allowed_from_each_configured_origin(live_server, prod_config):
    cors = prod_config["server"]["cors"]
    for origin in cors["allowOrigins"]:
        for method in cors["allowMethods"]:
            response = preflight(live_server, origin, method, ", ".join(cors["allowHeaders"]))
            assert response.status == 200, f"{origin} {method}: {response.status} {response.text}"
            assert response.headers.get("access-control-allow-origin") == origin
            allowed = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
            assert allowed == set(cors["allowMethods"])
            expected_credentials = "true" if cors.get("allowCredentials") else None
            assert response.headers.get("access-control-allow-credentials") == expected_credentials
        # A method outside the configured list is refused even from an allowed origin.
        assert preflight(live_server, origin, "DELETE").status == 400
        # A real request from the origin is answered with that origin, never `*` (credentials are allowed).
        simple = live_server.request("GET", "/status", headers={"Origin": origin})
        assert simple.headers.get("access-control-allow-origin") == origin


def test_cors_preflight_refused_from_a_foreign_origin(live_server):
    for origin in ("https://evil.example.com", "http://app.example.com", "null"):
        response = preflight(live_server, origin)
        assert response.status == 400, f"{origin}: {response.status}"
        assert "access-control-allow-origin" not in response.headers
        simple = live_server.request("GET", "/status", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers


def test_service_links_are_off_and_would_be_harmless(prod_render: Render, pod_venv_bin: Path):
    spec = prod_render.one("Deployment")["spec"]["template"]["spec"]
    assert spec.get("enableServiceLinks") is False
    namespace = prod_render.one("Deployment")["metadata"]["namespace"]
    links = service_link_env(prod_render.in_namespace("Service", namespace))
    assert links, "the render has a Service, so the kubelet would inject its variables if links were on"
    # Second line of defence: no rendered Service's link variables land on the server's settings.
    assert not [key for key in links if key.startswith("HAYHOOKS_")], sorted(links)
    with scratch_dir("hayhooks-links-") as root:
        pod = materialise(prod_render, root, pod_venv_bin, free_port)
        assert not set(links) & set(pod.env), "links were injected although the pod disables them"
        assert MASTER_SERVICE_ENV.items() <= pod.env.items(), "the `kubernetes` Service's variables are always set"


def test_service_link_trap_is_real(prod_render: Render, pod_venv_bin: Path):
    """Negative control: with links on and a Service named like the server, the emulated pod must fail."""
    render = Render(prod_render.root, copy.deepcopy(prod_render.objects))
    deployment = render.one("Deployment")
    spec = deployment["spec"]["template"]["spec"]
    spec.pop("enableServiceLinks", None)
    container = spec["containers"][0]
    container["env"] = [e for e in container["env"] if e["name"] != "HAYHOOKS_PORT"]
    render.one("Service")["metadata"]["name"] = "hayhooks"
    with scratch_dir("hayhooks-trap-") as root, scratch_dir("hayhooks-trap-logs-") as logs:
        pod = materialise(render, root, pod_venv_bin, free_port)
        assert pod.env["HAYHOOKS_PORT"].startswith("tcp://10.0.0.1:"), pod.env["HAYHOOKS_PORT"]
        process = start_process("trap", pod.argv, logs, **pod.popen_kwargs())
        try:
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert process.returncode not in (None, 0), f"the server did not fail on a link variable\n{process.tail()}"
            assert "tcp://10.0.0.1" in process.output() and "integer" in process.output(), process.tail()
        finally:
            stop_process(process)


def test_startup_fits_three_times_in_the_probe_budget(live_server):
    probe = live_server.pod.container["startupProbe"]
    budget = startup_budget(probe)
    measured = live_server.startup_seconds
    print(
        f"\nhayhooks start-up: GET /status answered {measured:.2f}s after exec; startup probe budget "
        f"{probe.get('failureThreshold', 3)} x {probe.get('periodSeconds', 10)}s = {budget:.0f}s "
        f"({budget / measured:.0f}x the measured time)"
    )
    assert budget >= 3 * measured, f"startup probe budget {budget}s < 3 x measured {measured:.2f}s"


def test_sigterm_stops_the_server_within_the_grace_period(live_server):
    """Last in the module: stops the shared server as the kubelet would (preStop, then SIGTERM)."""
    spec = live_server.pod.pod_spec
    grace = spec.get("terminationGracePeriodSeconds", 30)
    pre_stop = live_server.pod.container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    settings_timeout = int(live_server.pod.env.get("HAYHOOKS_GRACEFUL_SHUTDOWN_TIMEOUT", "0"))
    assert grace > pre_stop + settings_timeout, "the grace period must cover preStop and the server's own timeout"
    started = time.monotonic()
    stop_process(live_server.process, timeout=grace - pre_stop)
    took = time.monotonic() - started
    # uvicorn finishes its shutdown, then re-raises the signal it caught: -SIGTERM is a clean exit.
    assert live_server.process.returncode in (0, -signal.SIGTERM), live_server.process.tail()
    # uvicorn's own INFO lines, "Application shutdown complete." among them, are logged only while the server
    # routes `uvicorn.error` into its log, which production leaves out with its colour codes (server.logColors).
    intercepted = json.loads(live_server.pod.env.get("HAYHOOKS_INTERCEPTED_LOGGERS", '["uvicorn.error"]'))
    if "uvicorn.error" in intercepted:
        assert "Application shutdown complete." in live_server.process.output(), live_server.process.tail()
    assert pre_stop + took < grace
    with pytest.raises(OSError):
        live_server.request("GET", "/status")
