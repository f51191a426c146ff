"""The prod stack's pod, emulated from the render only, runs the real Hayhooks server as configured.

One server per module (see `live_server`): these tests read it and must not change it, except the
last one, which stops it the way the kubelet does.
"""

from __future__ import annotations

import copy
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hayhooks_pulumi.kubernetes.workload.deployment import readiness_script
from hayhooks_pulumi.pipelines import load_pipelines
from helpers.paths import REPO

from .kubelet import (
    MASTER_SERVICE_ENV,
    Render,
    materialise,
    run_probe,
    secret_stand_in,
    service_link_env,
    tree_is_read_only,
)
from .support import VENV_BIN, free_port, scratch_dir, start_process, startup_budget, stop_process

pytestmark = pytest.mark.live

LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "SUCCESS": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| (?P<level>[A-Z]+) +\|", re.MULTILINE)
TRACEBACK_MARKERS = ("Traceback", 'File "', "site-packages", ".py:", "line ")


def pipeline_names(config) -> tuple[str, ...]:
    return load_pipelines(REPO / config["pipelinesPath"]).names


def test_server_runs_as_the_pods_unprivileged_user(live_server):
    pod = live_server.pod
    assert pod.uid != 0 and pod.gid != 0, "the rendered securityContext must not run as root"
    status = Path(f"/proc/{live_server.process.pid}/status").read_text()
    uids = re.search(r"^Uid:\s+(.*)$", status, re.MULTILINE).group(1).split()
    gids = re.search(r"^Gid:\s+(.*)$", status, re.MULTILINE).group(1).split()
    groups = re.search(r"^Groups:\s*(.*)$", status, re.MULTILINE).group(1).split()
    assert set(uids) == {str(pod.uid)}, f"real/effective/saved/fs uid {uids}, expected {pod.uid}"
    assert set(gids) == {str(pod.gid)}
    assert sorted(int(g) for g in groups) == pod.groups, "fsGroup is the container's supplementary group"


def test_probes_succeed_as_written(live_server):
    container = live_server.pod.container
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert kind in container, f"the container has no {kind}"
        result = run_probe(live_server.pod, container[kind])
        assert result.ok, f"{kind} failed: {result.detail}"
    assert container["readinessProbe"] != container["livenessProbe"], "scanners flag identical probes"


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


def test_every_pipeline_loads_and_answers_its_status(live_server, prod_config):
    expected = pipeline_names(prod_config)
    assert set(prod_config["requiredPipelines"]) <= set(expected)
    status = live_server.request("GET", "/status")
    assert status.status == 200
    # Only the pipelines: no `..data` (the ConfigMap mount's symlink) or other mount artefacts.
    assert sorted(status.json()["pipelines"]) == sorted(expected), status.text
    for name in expected:
        response = live_server.request("GET", f"/status/{name}")
        assert response.status == 200, f"/status/{name}: {response.status} {response.text}"
    assert live_server.request("GET", "/status/no-such-pipeline").status == 404


def test_pipelines_run_with_the_expected_results(live_server):
    greeter = live_server.request("POST", "/greeter/run", {"name": "Ada"})
    assert greeter.status == 200, greeter.text
    # The key comes from the Secret the ExternalSecret fills: the stand-in shows it reached the pipeline.
    assert greeter.json() == {"result": {"greeting": "Hello, Ada!", "word_count": 2, "llm_key_configured": True}}

    qa = live_server.request("POST", "/qa-prompt/run", {"context": "Paris is in France.", "question": "Where?"})
    assert qa.status == 200, qa.text
    assert qa.json()["result"]["prompt_builder"]["prompt"] == (
        "Answer using only the context.\nContext: Paris is in France.\nQuestion: Where?\nAnswer:"
    )
    stand_in = secret_stand_in("hayhooks-store", "EXAMPLE_LLM_API_KEY")
    assert live_server.pod.env["EXAMPLE_LLM_API_KEY"] == stand_in
    assert stand_in not in greeter.text + live_server.process.output(), "the secret leaked into a response or log"


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


def test_trace_api_is_off(live_server):
    """The server serves /traces by default; the rendered pod turns it off (server.tracing.enabled: false)."""
    assert live_server.pod.env["HAYHOOKS_TRACING_ENABLED"] == "false"
    assert live_server.request("GET", "/traces").status == 404


def test_code_upload_endpoints_do_not_exist(live_server):
    for path in ("/deploy_files", "/deploy-yaml", "/undeploy/greeter"):
        response = live_server.request("POST", path, {"name": "x", "files": {}, "source_code": "import os"})
        assert response.status == 404, f"{path}: {response.status} {response.text}"
    assert live_server.request("GET", "/status/greeter").status == 200, "undeploy must not have removed greeter"


def test_server_errors_carry_no_traceback(live_server):
    bad = {
        "wrong type": (b'{"name": 5}', 422),
        "not JSON": (b"{not json", 422),
        "missing field": (b'{"greeting": "Hi"}', 422),
        # A lone surrogate decodes but cannot be encoded into the answer: an unhandled error inside the server.
        "unencodable": (b'{"name": "\\ud800"}', 500),
    }
    for what, (body, status) in bad.items():
        response = live_server.request("POST", "/greeter/run", body, {"Content-Type": "application/json"})
        assert response.status == status, f"{what}: {response.status} {response.text}"
        for marker in TRACEBACK_MARKERS:
            assert marker not in response.text, f"{what}: the answer carries a traceback: {response.text[:500]}"


def test_log_level_is_as_configured(live_server, prod_config):
    configured = prod_config["server"]["logLevel"]
    assert live_server.pod.env["HAYHOOKS_LOG_LEVEL"] == configured
    # Make sure something was logged after start-up too (requests of the tests above, and this one).
    live_server.request("GET", "/status/greeter")
    seen = [m.group("level") for m in LOG_LINE.finditer(live_server.process.output())]
    assert seen, f"no log lines recognised:\n{live_server.process.tail()}"
    below = sorted({level for level in seen if LEVELS[level] < LEVELS[configured]})
    assert not below, f"{below} lines in the log of a server configured at {configured}"
    assert configured in seen


def test_volumes_are_mounted_as_the_kubelet_would(live_server):
    pod = live_server.pod
    for mount in pod.container["volumeMounts"]:
        path = pod.mounts[mount["mountPath"]]
        writable = subprocess.run(
            [sys.executable, "-c", f"open({str(path / '.probe')!r}, 'w').close()"],
            capture_output=True,
            check=False,
            **pod.popen_kwargs(),
        )
        volume = next(v for v in pod.pod_spec["volumes"] if v["name"] == mount["name"])
        if "configMap" in volume:
            assert (path / "..data").is_symlink(), "the ConfigMap volume is laid out by the kubelet's atomic writer"
            assert tree_is_read_only(path)
            assert writable.returncode != 0, f"{mount['mountPath']} is writable by the server's user"
        elif mount.get("readOnly"):
            assert writable.returncode != 0
        else:
            assert writable.returncode == 0, f"{mount['mountPath']}: {writable.stderr.decode()}"


def test_service_links_are_off_and_would_be_harmless(prod_render: Render):
    spec = prod_render.one("Deployment")["spec"]["template"]["spec"]
    assert spec.get("enableServiceLinks") is False
    namespace = prod_render.one("Deployment")["metadata"]["namespace"]
    links = service_link_env(prod_render.in_namespace("Service", namespace))
    assert links, "the render has a Service, so the kubelet would inject its variables if links were on"
    # Second line of defence: no rendered Service's link variables land on the server's settings.
    assert not [key for key in links if key.startswith("HAYHOOKS_")], sorted(links)
    with scratch_dir("hayhooks-links-") as root:
        pod = materialise(prod_render, root, VENV_BIN, free_port)
        assert not set(links) & set(pod.env), "links were injected although the pod disables them"
        assert MASTER_SERVICE_ENV.items() <= pod.env.items(), "the `kubernetes` Service's variables are always set"


def test_service_link_trap_is_real(prod_render: Render):
    """Negative control: with links on and a Service named like the server, the emulated pod must fail."""
    render = Render(prod_render.root, copy.deepcopy(prod_render.objects))
    deployment = render.one("Deployment")
    spec = deployment["spec"]["template"]["spec"]
    spec.pop("enableServiceLinks", None)
    container = spec["containers"][0]
    container["env"] = [e for e in container["env"] if e["name"] != "HAYHOOKS_PORT"]
    render.one("Service")["metadata"]["name"] = "hayhooks"
    with scratch_dir("hayhooks-trap-") as root, scratch_dir("hayhooks-trap-logs-") as logs:
        pod = materialise(render, root, VENV_BIN, free_port)
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
