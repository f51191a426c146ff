"""The one walk over the config models that the reference and the plugin's schema types share."""

from __future__ import annotations

from enum import StrEnum

from hayhooks_pulumi.model import ConfigModel
from hayhooks_pulumi.model_walk import config_fields, model_tree
from pydantic import Field


class Color(StrEnum):
    RED = "red"


class Leaf(ConfigModel):
    """A leaf."""

    size: int = 3
    """How big."""


class Branch(ConfigModel):
    """A branch."""

    leaf: Leaf = Field(default_factory=Leaf)
    """Its leaf."""


class Root(ConfigModel):
    """The root."""

    branch_list: list[Branch] = Field(default_factory=lambda: [Branch()])
    """Branches."""
    by_name: dict[str, Leaf] = Field(default_factory=dict)
    """Leaves by name."""
    color: Color = Color.RED
    """A color."""
    name: str | None = None
    """A name."""
    count: int
    """Required."""


def test_fields_give_keys_docs_and_defaults_as_a_stack_file_writes_them() -> None:
    fields = {f.key: f for f in config_fields(Root)}
    assert list(fields) == ["branchList", "byName", "color", "name", "count"]
    assert fields["branchList"].default_is_model and fields["branchList"].default is None
    assert fields["byName"].default == "{}"
    assert fields["color"].default == '"red"' and fields["color"].doc == "A color."
    assert fields["name"].default is None and not fields["name"].required
    assert fields["count"].required and fields["count"].default is None


def test_the_tree_holds_each_model_once_before_or_after_those_under_it() -> None:
    tree = [(node.model, node.path) for node in model_tree(Root, "root")]
    assert tree == [(Root, "root"), (Branch, "root.branchList"), (Leaf, "root.branchList.leaf")]
    assert [node.model for node in model_tree(Root, dependencies_first=True)] == [Leaf, Branch, Root]


def test_a_map_of_models_is_named_by_any_key() -> None:
    class Only(ConfigModel):
        by_name: dict[str, Leaf] = Field(default_factory=dict)

    assert [node.path for node in model_tree(Only, "x")] == ["x", "x.byName.<NAME>"]
