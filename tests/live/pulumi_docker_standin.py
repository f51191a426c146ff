"""STAND-IN for pulumi-docker, for the live tests only: the Go module proxy refuses every
github.com/pulumi/pulumi-docker/provider module, so the dev stack cannot go through the engine here.

It applies a render's `docker:*` resources (resources.json) to a real Docker engine through the Engine API,
each input mapped to the API field pulumi-docker (terraform-provider-docker's container resource) sets from
it, and refuses an input it has no mapping for, so that nothing the render asks for is silently left out.
Like pulumi-docker it pulls a RemoteImage by name and gives the container that image's id, waits for a
container with `wait` to be healthy, and replaces a container whose inputs changed (every container input
forces a new container there). Nothing else of the provider is imitated.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from docker_engine import DockerEngine  # e2e/, which tests/conftest.py puts on sys.path

CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
IMAGE = "docker:index/remoteImage:RemoteImage"
INPUTS_LABEL = "dev.hayhooks-pulumi.standin-inputs"
SECONDS = 1_000_000_000


def _duration(value: str) -> int:
    """A Go duration as pulumi-docker takes it ("30s", "1m", "500ms") in nanoseconds."""
    units = {"ms": SECONDS // 1000, "s": SECONDS, "m": 60 * SECONDS, "h": 3600 * SECONDS}
    for unit in ("ms", "s", "m", "h"):
        if value.endswith(unit):
            return int(float(value.removesuffix(unit)) * units[unit])
    raise ValueError(f"not a duration: {value!r}")


def _labels(entries: list[dict[str, str]]) -> dict[str, str]:
    return {e["label"]: e["value"] for e in entries}


def container_body(inputs: dict[str, Any], image_id: str) -> dict[str, Any]:
    """The Engine API's ContainerCreate body for a pulumi-docker Container's inputs."""
    body: dict[str, Any] = {"Image": image_id, "HostConfig": {}, "Labels": {}}
    host = body["HostConfig"]
    mapped: dict[str, Any] = {
        "name": lambda v: None,  # the query's `name`
        "image": lambda v: None,  # the RemoteImage's id, given
        "wait": lambda v: None,  # acted on after start
        "waitTimeout": lambda v: None,
        "destroyGraceSeconds": lambda v: None,  # acted on at removal
        "command": lambda v: body.update(Cmd=v),
        "envs": lambda v: body.update(Env=v),
        "user": lambda v: body.update(User=v),
        "labels": lambda v: body["Labels"].update(_labels(v)),
        "stopSignal": lambda v: body.update(StopSignal=v),
        "stopTimeout": lambda v: body.update(StopTimeout=v),
        "readOnly": lambda v: host.update(ReadonlyRootfs=v),
        "tmpfs": lambda v: host.update(Tmpfs=v),
        "securityOpts": lambda v: host.update(SecurityOpt=v),
        "capabilities": lambda v: host.update(CapDrop=v.get("drops", []), CapAdd=v.get("adds", [])),
        "memory": lambda v: host.update(Memory=v * 1024 * 1024),
        "cpus": lambda v: host.update(NanoCpus=int(float(v) * SECONDS)),
        "restart": lambda v: host.update(RestartPolicy={"Name": v}),
        "logDriver": lambda v: host.setdefault("LogConfig", {}).update(Type=v),
        "logOpts": lambda v: host.setdefault("LogConfig", {}).update(Config=v),
        "volumes": lambda v: host.update(
            Binds=[f"{x['hostPath']}:{x['containerPath']}{':ro' if x.get('readOnly') else ''}" for x in v]
        ),
        "ports": lambda v: (
            body.update(ExposedPorts={f"{p['internal']}/{p.get('protocol', 'tcp')}": {} for p in v}),
            host.update(
                PortBindings={
                    f"{p['internal']}/{p.get('protocol', 'tcp')}": [
                        {"HostIp": p.get("ip", ""), "HostPort": str(p.get("external", ""))}
                    ]
                    for p in v
                }
            ),
        ),
        "healthcheck": lambda v: body.update(
            Healthcheck={
                "Test": v["tests"],
                **{
                    key: _duration(v[name])
                    for name, key in (
                        ("interval", "Interval"),
                        ("timeout", "Timeout"),
                        ("startPeriod", "StartPeriod"),
                        ("startInterval", "StartInterval"),
                    )
                    if name in v
                },
                "Retries": v.get("retries", 0),
            }
        ),
        "networksAdvanced": lambda v: body.update(
            NetworkingConfig={"EndpointsConfig": {n["name"]: {"Aliases": n.get("aliases", [])} for n in v}}
        ),
    }
    unknown = sorted(set(inputs) - set(mapped))
    if unknown:
        raise NotImplementedError(f"the pulumi-docker stand-in has no mapping for the Container inputs {unknown}")
    for key, value in inputs.items():
        mapped[key](value)
    body["Labels"][INPUTS_LABEL] = fingerprint(inputs)
    return body


def fingerprint(inputs: dict[str, Any]) -> str:
    """What decides a replacement: the inputs, all of them (the image id aside, which comes from the pull)."""
    kept = {k: v for k, v in inputs.items() if k != "image"}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Applied:
    """What an apply did: container name -> "created" | "replaced" | "same"; the image ids pulled."""

    steps: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)


def apply(engine: DockerEngine, resources: list[dict[str, Any]], image: str | None = None) -> Applied:
    """Create what the render registered (images pulled, networks, then containers); a container whose inputs
    changed is replaced. `image`: the reference pulled for a RemoteImage, when the test serves it elsewhere."""
    done = Applied()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(resource["type"], []).append(resource)
    known = {CONTAINER, NETWORK, IMAGE}
    unknown = sorted({r["type"] for r in resources if r["type"].startswith("docker:")} - known)
    if unknown:
        raise NotImplementedError(f"the pulumi-docker stand-in does not serve {unknown}")
    image_id = None
    for remote in by_type.get(IMAGE, []):
        pulled = engine.pull(image or remote["inputs"]["name"])
        image_id = pulled["Id"]
        done.images[remote["name"]] = image_id
    networks = {n["Name"] for n in engine.api("GET", "/networks")}
    for network in by_type.get(NETWORK, []):
        inputs = network["inputs"]
        if inputs["name"] not in networks:
            engine.api(
                "POST",
                "/networks/create",
                {"Name": inputs["name"], "Driver": inputs.get("driver", "bridge"), "Labels": _labels(inputs["labels"])},
            )
    for container in by_type.get(CONTAINER, []):
        inputs = container["inputs"]
        name = inputs["name"]
        body = container_body(inputs, image_id or inputs["image"])
        existing = engine.api("GET", f"/containers/{name}/json", ok=(404,))
        if existing and "Id" in existing:
            if existing["Config"]["Labels"].get(INPUTS_LABEL) == body["Labels"][INPUTS_LABEL]:
                done.steps[name] = "same"
                continue
            grace = inputs.get("destroyGraceSeconds", 10)
            engine.api("POST", f"/containers/{name}/stop?t={grace}", ok=(304,))
            engine.api("DELETE", f"/containers/{name}?v=1")
            done.steps[name] = "replaced"
        else:
            done.steps[name] = "created"
        engine.api("POST", f"/containers/create?{urllib.parse.urlencode({'name': name})}", body)
        engine.api("POST", f"/containers/{name}/start")
        if inputs.get("wait"):
            wait_healthy(engine, name, inputs.get("waitTimeout", 60))
    return done


def wait_healthy(engine: DockerEngine, name: str, timeout: float) -> float:
    """Seconds until the container's health check reports healthy; fails with its last probe output."""
    started = time.monotonic()
    while True:
        state = engine.api("GET", f"/containers/{name}/json")["State"]
        health = state.get("Health", {})
        if health.get("Status") == "healthy":
            return time.monotonic() - started
        if not state.get("Running") or time.monotonic() - started > timeout:
            log = [entry.get("Output", "") for entry in health.get("Log", [])][-3:]
            logs = engine.api("GET", f"/containers/{name}/logs?stdout=1&stderr=1&tail=40", raw=True)
            raise TimeoutError(
                f"container {name} not healthy after {time.monotonic() - started:.0f} s (state {state.get('Status')},"
                f" health {health.get('Status')}): {log}\n{logs.decode(errors='replace')[-3000:]}"
            )
        time.sleep(0.5)
