"""The mock engine: records every registration and gives provider-computed values stand-ins."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import bcrypt
import pulumi
from pulumi.runtime.mocks import MockMonitor, _resolve_callbacks

from ..image import digest_of


@dataclass
class Registration:
    type: str
    name: str
    parent_urn: str
    urn: str
    custom: bool
    inputs: dict[str, Any]
    # The `ignore_changes` option as the engine receives it: what `pulumi up` leaves to others (an autoscaler).
    ignore_changes: list[str] = field(default_factory=list)
    # `custom_timeouts` as the engine receives them (create/update/delete, e.g. "900s"; unset ones left out).
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    retain_on_delete: bool = False
    # The URNs it depends on (`depends_on` and those its inputs carry).
    dependencies: list[str] = field(default_factory=list)
    # A Kubernetes object registered without `metadata.name`: the stand-in for the name the provider gives it
    # (`<resource name>-<8 characters>`, random there, derived from the resource name here).
    auto_name: str | None = None
    # `replace_on_changes` and `delete_before_replace` as the engine receives them: how a change is applied
    # where the provider cannot update in place or a fixed name forbids a second copy.
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def engine_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """The URN the engine gives a resource (its `generateURN`): the parent's whole qualified type, `$`-joined with
    the resource's own, the root Stack left out. The SDK's mock monitor keeps only the parent's last type and keeps
    the Stack, so two children of equally named parents at different depths would look alike, or unlike, wrongly."""
    qualified = type_
    if parent_urn:
        parent_type = parent_urn.split("::", 3)[2]
        if parent_type.rsplit("$", 1)[-1] != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _stand_in(name: str, length: int) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def _bcrypt_salt(name: str) -> bytes:
    # bcrypt's own base64 alphabet; derived from the name so two renders are byte-identical.
    alphabet = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(name.encode()).digest()
    body = bytes(alphabet[b % 64] for b in digest[:21]) + b"."
    # bcrypt's lowest cost: the stand-in guards nothing, and cost 12 took 0.2 s per basic-auth service.
    return b"$2b$04$" + body


def random_password(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """pulumi-random's RandomPassword outputs, deterministic per resource name."""
    length = int(inputs.get("length", 16))
    result = ("rendered" + _stand_in(name, 64))[:length]
    return {**inputs, "result": result, "bcryptHash": bcrypt.hashpw(result.encode(), _bcrypt_salt(name)).decode()}


_CRDS_LOCK = threading.Lock()


@functools.cache
def _packaged_crd(name: str) -> dict[str, Any]:
    """The stand-in for a packaged CRD as the cluster returns it to a read, made once a program.

    It is the packaged CRD without its versions' schemas: a read's state is the program's alone (the render writes
    none), and what a program checks of a CRD is which versions it serves. A schema (tens of kilobytes) serialized
    by the mock engine and deserialized by the SDK into its typed outputs made each read cost more than any resource
    a service registers; the schemas stay in the package for the render's checks. The file is looked for under its
    upstream name (`<group>_<plural>.json`) first, so a read parses one file, not the folder."""
    from ..crds import CRD_DIR

    plural, _, group = name.partition(".")
    for path in [CRD_DIR / f"{group}_{plural}.json", *sorted(CRD_DIR.glob("*.json"))]:
        crd = json.loads(path.read_text()) if path.is_file() else {}
        if crd.get("metadata", {}).get("name") == name:
            versions = [{k: v for k, v in version.items() if k != "schema"} for version in crd["spec"]["versions"]]
            return {**crd, "spec": {**crd["spec"], "versions": versions}}
    return {}


def packaged_crd(name: str) -> dict[str, Any]:
    """The packaged CRD of that name as a read returns it (see `_packaged_crd`), or `{}`. Shared between reads: the
    mock engine only serializes it. The SDK's threads read at once: the lock has the first make it, the rest wait."""
    with _CRDS_LOCK:
        return _packaged_crd(name)


def repo_digest(name: str) -> str:
    """What the engine reports for a pulled image: `<repository>@sha256:<hex>`, the reference's own digest when it
    pins one (a registry returns that), else a stand-in derived from the name."""
    ref = name.partition("@")[0]
    repository = ref.rpartition(":")[0] if ":" in ref.rpartition("/")[2] else ref
    return f"{repository}@{digest_of(name) or 'sha256:' + hashlib.sha256(name.encode()).hexdigest()}"


class RenderMocks(pulumi.runtime.Mocks):
    """Inputs echo as state; the few provider-computed values get deterministic stand-ins."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        if args.resource_id and args.typ == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition":
            # A CRD the component reads: the render stands for a cluster with the CRDs the package ships.
            return args.resource_id, packaged_crd(args.resource_id)
        if args.typ == "random:index/randomPassword:RandomPassword":
            state = random_password(args.name, args.inputs)
        elif args.typ.startswith("kubernetes:"):
            metadata = dict(state.get("metadata") or {})
            metadata.setdefault("name", f"{args.name}-{_stand_in(args.name, 8)}")
            state["metadata"] = metadata
        elif args.typ == "docker:index/remoteImage:RemoteImage":
            state["imageId"] = "sha256:" + hashlib.sha256(str(args.inputs.get("name")).encode()).hexdigest()
            state["repoDigest"] = repo_digest(str(args.inputs.get("name")))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        raise NotImplementedError(f"the offline render cannot answer the function call {args.token}")


def _auto_name(type_: str, inputs: dict[str, Any], response: Any) -> str | None:
    from pulumi.runtime import rpc

    if not type_.startswith("kubernetes:"):
        return None
    if (inputs.get("metadata") or {}).get("name"):
        return None
    name = (rpc.deserialize_properties(response.object).get("metadata") or {}).get("name")
    return name if isinstance(name, str) else None


@dataclass(frozen=True)
class Read:
    """An existing resource the program reads (`Resource.get`): its type, name, id and URN."""

    type: str
    name: str
    id: str
    urn: str


class RecordingMonitor(MockMonitor):
    """MockMonitor that also keeps each resource's type, parent and inputs, in registration order, and what the
    program reads; and closes the event loops its calls made (`close_event_loops`).

    The SDK calls the monitor from its default executor's threads, and the mock monitor gives each such thread an
    event loop of its own (`_ensure_event_loop`) that nothing closes. Left open, each is finalized at exit in no
    particular order with its self-pipe socket; when the socket goes first, the loop's `__del__` prints
    `Exception ignored in: <function BaseEventLoop.__del__ ...> ValueError: Invalid file descriptor: -1`.

    It also runs the program's `transforms` on what they change of the inputs, as the engine does (the SDK's mock
    monitor does not): a resource's own, then its parents', then the stack's (`register_resource_transform`), so
    that the render shows a patch of what the components' models do not cover. What a transform changes of the
    options is the engine's alone."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.reads: list[Read] = []
        self._loops: dict[int, asyncio.AbstractEventLoop] = {}
        # Each resource's transforms and its parents', which its children inherit, by URN.
        self._transforms: dict[str, list[Any]] = {}

    def _keep_thread_loop(self) -> None:
        """Remember the event loop the SDK set for the calling thread, to close it once the program is done."""
        loop = asyncio.get_event_loop_policy().get_event_loop()
        self._loops.setdefault(id(loop), loop)

    def close_event_loops(self) -> None:
        """Close the loops the program ran on, once it is done: the main thread's (after joining its default
        executor, whose threads serve the monitor's calls) and each of those threads' own. Nothing is left for
        the interpreter to finalize at exit; the next program in this process gets a new loop."""
        policy = asyncio.get_event_loop_policy()
        main = policy.get_event_loop()
        if not main.is_running():
            if not main.is_closed():
                main.run_until_complete(main.shutdown_default_executor())
                main.close()
            policy.set_event_loop(None)
        for loop in self._loops.values():
            if not loop.is_running() and not loop.is_closed():
                loop.close()
        self._loops.clear()

    def Invoke(self, request):  # noqa: N802 (gRPC method name)
        response = super().Invoke(request)
        self._keep_thread_loop()
        return response

    def ReadResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().ReadResource(request)
        self._keep_thread_loop()
        self.reads.append(Read(type=request.type, name=request.name, id=request.id, urn=response.urn))
        return response

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return engine_urn(pulumi.get_stack(), pulumi.get_project(), parent, type_, name)

    def _apply_transforms(self, request: Any) -> None:
        """Replace the request's inputs with what its transforms make of them (see the class)."""
        chain = [*_resolve_callbacks(request.transforms), *self._transforms.get(request.parent, [])]
        self._transforms[self.make_urn(request.parent, request.type, request.name)] = chain
        transforms = [*chain, *self.get_registered_transforms()]
        if not transforms:
            return
        from pulumi.runtime import rpc
        from pulumi.runtime.sync_await import _sync_await

        props = rpc.deserialize_properties(request.object)
        for transform in transforms:
            args = pulumi.ResourceTransformArgs(
                request.custom, request.type, request.name, props, pulumi.ResourceOptions()
            )
            result = transform(args)
            if inspect.isawaitable(result):
                result = _sync_await(result)
            if result is not None:
                props = result.props
        request.object.CopyFrom(_sync_await(rpc.serialize_properties(props, {})))

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        if request.type != "pulumi:pulumi:Stack":
            self._apply_transforms(request)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._keep_thread_loop()
            from pulumi.runtime import rpc

            # Deserialized once here for the record and the auto-name (a Deployment's inputs are hundreds of values).
            inputs = rpc.deserialize_properties(request.object)
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    parent_urn=request.parent,
                    urn=response.urn,
                    custom=request.custom,
                    inputs=inputs,
                    ignore_changes=list(request.ignoreChanges),
                    custom_timeouts={
                        kind: value
                        for kind in ("create", "update", "delete")
                        if (value := getattr(request.customTimeouts, kind))
                    },
                    retain_on_delete=request.retainOnDelete,
                    dependencies=list(request.dependencies),
                    auto_name=_auto_name(request.type, inputs, response),
                    replace_on_changes=list(request.replaceOnChanges),
                    delete_before_replace=request.deleteBeforeReplace,
                )
            )
        return response
