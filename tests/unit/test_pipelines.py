"""load_pipelines: which files ship, which names the server will serve, what is refused, the checksum.

Where it can, the expected names come from Hayhooks 2.1.0's own discovery
(`hayhooks.server.pipelines.loader._discover_candidates`, what durable mode loads).
"""

from __future__ import annotations

import importlib
import os
import shutil
import time
from pathlib import Path

import pytest
from hayhooks_pulumi.errors import ConfigError
from hayhooks_pulumi.pipelines import RESERVED_NAMES, PipelineSet, durable_problems, load_pipelines
from helpers.paths import REPO
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

WRAPPER = b"from hayhooks import BasePipelineWrapper\n"
YAML = b"components: {}\nconnections: []\ninputs: {question: prompt.question}\noutputs: {replies: llm.replies}\n"


def _tree(root: Path, files: dict[str, bytes | str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def _server_names(root: Path) -> tuple[str, ...]:
    loader = importlib.import_module("hayhooks.server.pipelines.loader")
    return tuple(loader._discover_candidates(root))


def _refusal(root: Path, path: str = "pipelinesPath") -> str:
    with pytest.raises(ConfigError) as caught:
        load_pipelines(root, path)
    assert {p.path for p in caught.value.problems} == {path}
    return str(caught.value)


STANDARD = {
    "greeter/pipeline_wrapper.py": WRAPPER,
    "greeter/prompts/system.txt": "You greet.\n",
    "greeter/lib/util.py": "X = 1\n",
    "qa.yml": YAML,
    "summarize.yaml": YAML,
}


# --------------------------------------------------------------------------------------------
# Names and files
# --------------------------------------------------------------------------------------------


def test_names_from_wrapper_dirs_and_yaml_files(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", STANDARD)
    loaded = load_pipelines(root)
    assert loaded.names == ("greeter", "qa", "summarize")
    assert loaded.names == _server_names(root)
    assert loaded.root == root


def test_every_file_ships_by_relative_posix_path_with_its_bytes(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", STANDARD)
    files = load_pipelines(root).files
    assert set(files) == set(STANDARD)
    for relative, content in STANDARD.items():
        assert files[relative] == (content.encode() if isinstance(content, str) else content)


def test_dot_entries_and_build_output_are_skipped(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "p",
        {
            **STANDARD,
            ".hidden.yml": YAML,  # a dot-file is not a pipeline
            ".git/config": "[core]\n",
            "..data/qa.yml": YAML,  # a ConfigMap mount's internals
            "..2026_01_01/qa.yml": YAML,
            "greeter/.env": "SECRET=1\n",
            "greeter/.cache/x": "x",
            "__pycache__/x.cpython-311.pyc": b"\0",
            "greeter/__pycache__/pipeline_wrapper.cpython-311.pyc": b"\0",
            "greeter/stale.pyc": b"\0",
            "greeter/native.so": b"\0",
            "greeter/lib/.keep": "",
        },
    )
    loaded = load_pipelines(root)
    assert loaded.names == ("greeter", "qa", "summarize")
    assert loaded.names == _server_names(root)
    assert set(loaded.files) == set(STANDARD)


def test_other_top_level_files_ship_but_are_not_pipelines(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", {**STANDARD, "README.md": "# pipelines\n", "qa.json": "{}"})
    loaded = load_pipelines(root)
    assert loaded.names == ("greeter", "qa", "summarize")
    assert loaded.names == _server_names(root)
    assert "README.md" in loaded.files


def test_yaml_only_and_wrapper_only_dirs(tmp_path: Path) -> None:
    assert load_pipelines(_tree(tmp_path / "y", {"only.yaml": YAML})).names == ("only",)
    assert load_pipelines(_tree(tmp_path / "w", {"only/pipeline_wrapper.py": WRAPPER})).names == ("only",)


def test_the_repositorys_example_pipelines(tmp_path: Path) -> None:
    loaded = load_pipelines(REPO / "pipelines")
    assert loaded.names == ("greeter", "qa-prompt")
    assert loaded.names == _server_names(REPO / "pipelines")
    assert "greeter/pipeline_wrapper.py" in loaded.files


def test_size_counts_paths_and_contents(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", {"a.yml": b"12345", "b/pipeline_wrapper.py": b"123"})
    assert load_pipelines(root).size == len("a.yml") + 5 + len("b/pipeline_wrapper.py") + 3


def test_a_string_path_works_too(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", STANDARD)
    assert load_pipelines(str(root)).names == load_pipelines(root).names


# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------


def test_an_empty_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "holds no pipeline" in _refusal(tmp_path / "empty")


def test_a_dir_with_only_ignored_entries_is_refused(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", {".hidden.yml": YAML, "..data/a.yml": YAML, "README.md": "x", "__pycache__/a": "x"})
    assert "holds no pipeline" in _refusal(root)


def test_a_missing_dir_is_refused_with_the_callers_path(tmp_path: Path) -> None:
    message = _refusal(tmp_path / "nope", path="hayhooks:service.pipelinesPath")
    assert "is not a directory" in message
    assert message.startswith("hayhooks:service.pipelinesPath: ")


def test_a_file_instead_of_a_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.yml").write_bytes(YAML)
    assert "is not a directory" in _refusal(tmp_path / "file.yml")


@pytest.mark.parametrize(
    "files",
    [
        {"My_Pipeline.yml": YAML},
        {"-lead.yml": YAML},
        {"trail-.yaml": YAML},
        {"a.b.yml": YAML},
        {"has space/pipeline_wrapper.py": WRAPPER},
        {"Greeter/pipeline_wrapper.py": WRAPPER},
        {"x" * 64 + ".yml": YAML},
    ],
    ids=["uppercase", "leading-dash", "trailing-dash", "dot", "space", "uppercase-dir", "64-chars"],
)
def test_names_unusable_in_urls_and_probes_are_refused(tmp_path: Path, files: dict) -> None:
    root = _tree(tmp_path / "p", {"ok.yml": YAML, **files})
    message = _refusal(root)
    assert "not usable in URLs" in message
    bad = next(iter(files)).split("/")[0].removesuffix(".yml").removesuffix(".yaml")
    assert repr(bad) in message
    assert "'ok'" not in message


def test_a_63_character_name_is_fine(tmp_path: Path) -> None:
    name = "a" + "-" * 61 + "z"
    assert load_pipelines(_tree(tmp_path / "p", {f"{name}.yml": YAML})).names == (name,)


def test_a_top_level_dir_without_wrapper_is_refused(tmp_path: Path) -> None:
    # The server loads every top-level directory as a pipeline: this one would stop its start-up.
    root = _tree(tmp_path / "p", {**STANDARD, "shared/helpers.py": "X = 1\n"})
    message = _refusal(root)
    assert "'shared'" in message
    assert "pipeline_wrapper.py" in message
    assert "shared" in _server_names(root)  # the server does take it for a pipeline


@pytest.mark.parametrize(
    "files",
    [
        {"qa.yml": YAML, "qa.yaml": YAML},
        {"qa/pipeline_wrapper.py": WRAPPER, "qa.yml": YAML},
    ],
    ids=["yml-and-yaml", "dir-and-yaml"],
)
def test_a_name_defined_twice_is_refused_like_the_server_does(tmp_path: Path, files: dict) -> None:
    root = _tree(tmp_path / "p", files)
    assert "defined twice" in _refusal(root)
    loader = importlib.import_module("hayhooks.server.pipelines.loader")
    with pytest.raises(loader.PipelineModuleLoadError, match="defined twice"):
        loader._discover_candidates(root)


# --------------------------------------------------------------------------------------------
# Checksum: changes with any shipped byte or path, stable otherwise
# --------------------------------------------------------------------------------------------


def _checksum(root: Path) -> str:
    return load_pipelines(root).checksum


def test_checksum_is_a_sha256_hex_digest(tmp_path: Path) -> None:
    checksum = _checksum(_tree(tmp_path / "p", STANDARD))
    assert len(checksum) == 64
    assert int(checksum, 16) >= 0


def test_checksum_is_stable_across_loads_and_locations(tmp_path: Path) -> None:
    first = _tree(tmp_path / "a", STANDARD)
    second = _tree(tmp_path / "elsewhere" / "b", dict(reversed(list(STANDARD.items()))))
    assert _checksum(first) == _checksum(first) == _checksum(second)


def test_checksum_ignores_what_does_not_ship(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", STANDARD)
    before = _checksum(root)
    _tree(root, {".notes": "x", "greeter/__pycache__/a.pyc": b"\0", "greeter/b.pyc": b"\0", "..data/qa.yml": YAML})
    os.utime(root / "qa.yml")  # a touched file with the same content
    assert _checksum(root) == before


@pytest.mark.parametrize(
    "change",
    ["edit-byte", "append-newline", "add-file", "remove-file", "rename-file", "move-between-dirs"],
)
def test_checksum_changes_with_any_shipped_change(tmp_path: Path, change: str) -> None:
    root = _tree(tmp_path / "p", STANDARD)
    before = _checksum(root)
    util = root / "greeter" / "lib" / "util.py"
    if change == "edit-byte":
        util.write_bytes(b"X = 2\n")
    elif change == "append-newline":
        util.write_bytes(util.read_bytes() + b"\n")
    elif change == "add-file":
        (root / "greeter" / "lib" / "more.py").write_bytes(b"")
    elif change == "remove-file":
        util.unlink()
    elif change == "rename-file":
        util.rename(util.with_name("util2.py"))
    elif change == "move-between-dirs":
        shutil.move(util, root / "greeter" / "prompts" / "util.py")
    assert _checksum(root) != before


def test_checksum_separates_path_from_content(tmp_path: Path) -> None:
    # Path "ab" with content "c" and path "a" with content "bc" must not collide.
    one = _tree(tmp_path / "one", {"x.yml": YAML, "ab": b"c"})
    two = _tree(tmp_path / "two", {"x.yml": YAML, "a": b"bc"})
    assert _checksum(one) != _checksum(two)


_file_names = st.from_regex(r"[a-z0-9_]{1,8}\.(py|txt|json)", fullmatch=True)


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(_file_names, st.binary(max_size=64), min_size=1, max_size=5),
    st.data(),
)
def test_checksum_changes_iff_a_file_changes(tmp_path: Path, extra: dict[str, bytes], data: st.DataObject) -> None:
    root = tmp_path / f"p{abs(hash(tuple(extra.items())))}"
    shutil.rmtree(root, ignore_errors=True)
    _tree(root, {"w/pipeline_wrapper.py": WRAPPER, **{f"w/{name}": content for name, content in extra.items()}})
    loaded: PipelineSet = load_pipelines(root)
    assert load_pipelines(root).checksum == loaded.checksum
    name = data.draw(st.sampled_from(sorted(extra)))
    new = data.draw(st.binary(max_size=64))
    (root / "w" / name).write_bytes(new)
    assert (load_pipelines(root).checksum == loaded.checksum) is (new == extra[name])


def test_a_link_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    pipelines = tmp_path / "pipelines"
    (pipelines / "echo").mkdir(parents=True)
    (pipelines / "echo" / "pipeline_wrapper.py").write_text("# wrapper\n")
    (tmp_path / "credentials.txt").write_text("not for the ConfigMap\n")
    (pipelines / "echo" / "notes.txt").symlink_to(tmp_path / "credentials.txt")
    with pytest.raises(ConfigError) as raised:
        load_pipelines(pipelines)
    (problem,) = raised.value.problems
    assert problem.path == "pipelinesPath" and "echo/notes.txt links outside" in problem.message


def test_a_link_inside_the_directory_is_shipped_as_a_file(tmp_path: Path) -> None:
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "pipeline_wrapper.py").write_text("# wrapper\n")
    (tmp_path / "echo" / "alias.py").symlink_to(tmp_path / "echo" / "pipeline_wrapper.py")
    assert load_pipelines(tmp_path).files["echo/alias.py"] == b"# wrapper\n"


# --------------------------------------------------------------------------------------------
# Durable mode: what makes the server's start-up exit, refused before anything registers
# --------------------------------------------------------------------------------------------

_SERVER_ROUTES = """
import json
from hayhooks.server.app import _build_app, _matches_existing_route
from hayhooks.server.pipelines.registry import ImmutablePipelineRegistry

app = _build_app(ImmutablePipelineRegistry(()))  # durable mode, no pipelines


def paths(routes):
    for route in routes:
        if hasattr(route, "effective_candidates"):  # an included router
            yield from paths(route.effective_candidates())
        else:
            yield route.path


segments = sorted({path.split("/")[1] for path in paths(app.router.routes)} - {""})
names = segments + json.loads(input())
taken = sorted(n for n in names if _matches_existing_route(app, f"/{n}/run"))
print(json.dumps({"segments": segments, "taken": taken}))
"""


def test_reserved_names_are_exactly_those_the_servers_routes_take() -> None:
    # The server's own check (`_add_immutable_pipelines`): a name is refused when POST /<name>/run matches a
    # fixed route. Asked of every first path segment of the real app, plus ours and ordinary names.
    import json
    import subprocess
    import sys

    extra = sorted(RESERVED_NAMES | {"greeter", "qa", "run", "pipeline"})
    done = subprocess.run(
        [sys.executable, "-c", _SERVER_ROUTES], input=json.dumps(extra), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"status", "draw", "docs", "v1", "chat"} <= set(answer["segments"])  # the walk saw the routes
    assert set(answer["taken"]) == RESERVED_NAMES


def _durable(root: Path) -> list[str]:
    return [str(p) for p in durable_problems(load_pipelines(root))]


NO_IO = b"components: {}\nconnections: []\n"
YAML_SAMPLES = {
    "no-io": (NO_IO, True),
    "empty-io": (NO_IO + b"inputs: {}\noutputs: {}\n", True),
    "null-io": (NO_IO + b"inputs:\noutputs:\n", True),
    "empty-file": (b"", True),
    "a-list": (b"- inputs\n- outputs\n", True),
    "invalid": (b"inputs: [unclosed\n", True),
    "latin-1": ("inputs: {q: caf\xe9.q}\n".encode("latin-1"), True),
    "inputs-only": (NO_IO + b"inputs: {question: prompt.question}\n", False),
    "outputs-only": (NO_IO + b"outputs: {prompt: prompt.prompt}\n", False),
    "both": (YAML, False),
}


@pytest.mark.parametrize("sample", sorted(YAML_SAMPLES))
def test_yaml_without_inputs_or_outputs_is_refused_by_hayhooks_own_rule(tmp_path: Path, sample: str) -> None:
    content, refused = YAML_SAMPLES[sample]
    root = _tree(tmp_path / "p", {"greeter/pipeline_wrapper.py": WRAPPER, f"{sample}.yml": content})
    found = _durable(root)
    assert bool(found) is refused
    if refused:
        assert found[0].startswith(f"pipelinesPath: {sample}.yml ")
    # The server's own function, as durable start-up calls it (read as UTF-8, then parsed):
    yaml_utils = importlib.import_module("hayhooks.server.utils.yaml_utils")
    try:
        yaml_utils.get_inputs_outputs_from_yaml(content.decode("utf-8"))
    except (yaml_utils.InvalidYamlIOError, AttributeError, UnicodeDecodeError, yaml_utils.yaml.YAMLError):
        server_refuses = True
    except Exception:  # a later step (the components) fails: not this rule
        server_refuses = False
    else:
        server_refuses = False
    assert server_refuses is refused


def test_a_missing_io_message_says_what_to_add(tmp_path: Path) -> None:
    (message,) = _durable(_tree(tmp_path / "p", {"ask.yaml": NO_IO}))
    assert "ask.yaml declares neither `inputs` nor `outputs`" in message
    assert "YAML pipeline must declare at least one of 'inputs' or 'outputs'" in message


@pytest.mark.parametrize("name", sorted(RESERVED_NAMES))
@pytest.mark.parametrize("kind", ["yml", "wrapper"])
def test_a_name_taken_by_a_server_route_is_refused(tmp_path: Path, name: str, kind: str) -> None:
    entry = f"{name}.yml" if kind == "yml" else f"{name}/pipeline_wrapper.py"
    root = _tree(tmp_path / "p", {"qa.yml": YAML, entry: YAML if kind == "yml" else WRAPPER})
    (message,) = _durable(root)
    source = f"{name}.yml" if kind == "yml" else f"{name}/"
    assert message.startswith(f"pipelinesPath: {source} defines pipeline {name!r}")
    assert "conflict with server routes" in message


def test_the_repositorys_pipelines_pass_durable_checks() -> None:
    assert _durable(REPO / "pipelines") == []


@pytest.mark.parametrize("target", ["kubernetes", "docker"])
def test_both_targets_refuse_in_durable_mode_only(tmp_path: Path, target: str) -> None:
    from hayhooks_pulumi.docker.plan import plan_container
    from hayhooks_pulumi.kubernetes.plan import plan_service

    root = _tree(tmp_path / "p", {"status.yml": YAML, "ask.yml": NO_IO})
    args = {"profile": "development", "image": "deepset/hayhooks:v2.1.0", "pipelinesPath": str(root)}
    plan = plan_service if target == "kubernetes" else plan_container
    with pytest.raises(ConfigError) as caught:
        plan("hh", args)
    messages = {str(p) for p in caught.value.problems}
    assert {m.split(" ", 2)[1] for m in messages} == {"ask.yml", "status.yml"}
    assert all(m.startswith("pipelinesPath: ") for m in messages)
    assert plan("hh", {**args, "server": {"durableMode": False}}).pipelines.names == ("ask", "status")


# --------------------------------------------------------------------------------------------
# One read per directory: services sharing it share the set, until it changes
# --------------------------------------------------------------------------------------------


def _age(root: Path, seconds: float = 60) -> None:
    """Set every entry's times into the past, as a checked-out tree's are."""
    past = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past), follow_symlinks=False)


def test_a_shared_unchanged_directory_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path / "p", STANDARD)
    _age(root)
    reads: list[Path] = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or original(self))
    first = load_pipelines(root)
    count = len(reads)
    assert count == len(STANDARD)
    assert all(load_pipelines(root) is first for _ in range(49))
    assert len(reads) == count


def test_an_edit_is_seen(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", STANDARD)
    _age(root)
    before = load_pipelines(root)
    (root / "greeter" / "lib" / "util.py").write_bytes(b"X = 2\n")  # same size
    _age(root, 30)  # even with times set back, unlike the ones seen before
    after = load_pipelines(root)
    assert after.files["greeter/lib/util.py"] == b"X = 2\n"
    assert after.checksum != before.checksum


def test_a_tree_changed_just_now_is_read_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its times could not show a further edit within the same clock tick, so it is never cached.
    root = _tree(tmp_path / "p", STANDARD)
    reads: list[Path] = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or original(self))
    load_pipelines(root)
    load_pipelines(root)
    assert len(reads) == 2 * len(STANDARD)


@pytest.mark.parametrize("module", ["pipeline_wrapper.py", "__init__.py"])
def test_a_wrapper_module_that_does_not_compile_is_refused_naming_file_and_line(tmp_path: Path, module: str) -> None:
    # The server executes both when it loads the directory: `invalid syntax (pipeline_wrapper.py, line 1)` at start.
    files = {"qa.yml": YAML, "greeter/pipeline_wrapper.py": WRAPPER, f"greeter/{module}": b"import os\ndef run(:\n"}
    with pytest.raises(ConfigError) as raised:
        load_pipelines(_tree(tmp_path / "p", files))
    (problem,) = raised.value.problems
    assert problem.path == "pipelinesPath"
    assert problem.message.startswith(f"greeter/{module} does not compile (line 2, column 9: invalid syntax)")
    assert "cannot load pipeline 'greeter'" in problem.message


def test_wrapper_modules_are_compiled_not_run_and_other_modules_are_left_to_their_importer(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    files = {
        "w/pipeline_wrapper.py": f"open({str(marker)!r}, 'w').close()\n",
        # Loaded only when the wrapper imports it; the server never executes it on its own.
        "w/notes.py": b"this is not python\n",
    }
    assert load_pipelines(_tree(tmp_path / "p", files)).names == ("w",)
    assert not marker.exists()


def test_every_problem_of_a_pipelines_dir_is_reported_at_once(tmp_path: Path) -> None:
    files = {"Bad Name.yml": YAML, "broken/pipeline_wrapper.py": b"def (\n", "shared/util.py": b"x = 1\n"}
    with pytest.raises(ConfigError) as raised:
        load_pipelines(_tree(tmp_path / "p", files))
    messages = [problem.message for problem in raised.value.problems]
    assert len(messages) == 3, messages
    assert "broken/pipeline_wrapper.py does not compile" in messages[0]
    assert "directory 'shared' has no pipeline_wrapper.py" in messages[1]
    assert messages[2].startswith("pipeline names ['Bad Name'] are not usable")
