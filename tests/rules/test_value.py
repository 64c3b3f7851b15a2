"""stager.value: the value types behave as the dataclasses they replace (checked against
``dataclasses`` itself on the same class bodies). That no command imports ``dataclasses``
is checked in tests/test_architecture.py."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import re
from typing import ClassVar

import pytest

from stager import value as v
from stager.value import FrozenError, field, value


def _pair(frozen: bool):
    """The same class body made by stager.value and by dataclasses."""

    def body(decorate, make_field):
        class Item:
            size: int
            name: str = "a"
            tags: list = make_field(default_factory=list)
            note: str = make_field(default="", compare=False)
            secret: str = make_field(default="s", repr=False)
            kind: ClassVar[str] = "item"

        return decorate(Item)

    mine = body(value(frozen=frozen), field)
    theirs = body(dataclasses.dataclass(frozen=frozen), dataclasses.field)
    return mine, theirs


CALLS: list[tuple[tuple, dict]] = [
    ((1,), {}),
    ((2, "b"), {}),
    ((), {"size": 3, "tags": [1, 2]}),
    ((4,), {"note": "n", "secret": "x"}),
    ((5, "e", [3]), {"note": "m"}),
]


@pytest.mark.parametrize("frozen", [True, False])
@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_a_value_reads_compares_and_shows_itself_as_the_dataclass_of_the_same_body(frozen, args, kwargs):
    mine, theirs = _pair(frozen)
    a, b = mine(*args, **kwargs), theirs(*args, **kwargs)
    assert repr(a).replace(mine.__qualname__, "X") == repr(b).replace(theirs.__qualname__, "X")
    assert [f.name for f in v.fields(a)] == [f.name for f in dataclasses.fields(b)]
    for other_args, other_kwargs in CALLS:
        same_mine = a == mine(*other_args, **other_kwargs)
        same_theirs = b == theirs(*other_args, **other_kwargs)
        assert same_mine == same_theirs, (other_args, other_kwargs)
    assert mine.kind == "item" and "kind" not in {f.name for f in v.fields(mine)}


def test_the_fields_compare_as_the_dataclass_table_of_default_factories_says():
    mine, _ = _pair(frozen=True)
    first, second = mine(1), mine(1)
    assert first.tags == [] and first.tags is not second.tags  # a fresh list for each value
    assert mine(1, note="x") == mine(1, note="y")  # compare=False
    assert mine(1, secret="x") != mine(1, secret="y")  # repr=False still compares
    assert "secret" not in repr(mine(1)) and "note=''" in repr(mine(1))


@value
class Point:
    x: int
    y: int = 0
    label: str = field(default="", compare=False)


def test_a_frozen_value_refuses_to_change_and_hashes_by_its_compared_fields():
    p = Point(1, 2)
    with pytest.raises(FrozenError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):  # FrozenError is one, as FrozenInstanceError
        del p.y
    assert (p.x, p.y) == (1, 2)
    assert hash(p) == hash(Point(1, 2, label="other"))
    assert {p, Point(1, 2, "again")} == {p}
    assert pickle.loads(pickle.dumps(p)) == p and copy.deepcopy(p) == p


def test_a_mutable_value_takes_changes_and_is_not_hashable():
    @value(frozen=False)
    class Tally:
        count: int = 0
        seen: list = field(default_factory=list)

    t = Tally()
    t.count += 1
    t.seen.append("x")
    assert t == Tally(1, ["x"]) and t != Tally()
    with pytest.raises(TypeError):
        hash(t)


def test_a_mutable_value_s_own_setattr_runs_for_every_field_before_and_after_compilation():
    seen = []

    @value(frozen=False)
    class Watched:
        a: int
        b: int = 2

        def __setattr__(self, name, given):
            seen.append(name)
            object.__setattr__(self, name, given)

    for _ in range(v.HOT + 1):
        Watched(1)
    assert seen == ["a", "b"] * (v.HOT + 1)


def test_post_init_runs_after_the_fields_are_set_and_again_on_replace():
    @value
    class Volume:
        path: str
        verdict: str = ""

        def __post_init__(self):
            if not self.verdict:
                object.__setattr__(self, "verdict", "card" if self.path.startswith("/media") else "fixed")

    assert Volume("/media/sd").verdict == "card"
    assert Volume("/", verdict="system").verdict == "system"
    moved = v.replace(Volume("/media/sd"), path="/home")
    assert (moved.path, moved.verdict) == ("/home", "card")  # the field copied, as dataclasses.replace
    assert v.replace(Volume("/media/sd"), verdict="").verdict == "card"


def test_init_is_compiled_when_the_first_value_is_made_and_then_is_the_class_own():
    @value
    class Late:
        a: int
        b: str = "x"

    assert list(inspect.signature(Late).parameters) == ["args", "kwargs"]  # not compiled yet
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'a'"):
        Late()  # the first call already checks its arguments as the compiled one does
    assert str(inspect.signature(Late)) == "(a, b='x')"
    assert Late(1) == Late(1, "x") and Late(a=2, b="y").b == "y"


@pytest.mark.parametrize("frozen", [True, False])
def test_values_made_before_and_after_the_init_is_compiled_are_the_same(frozen):
    mine, theirs = _pair(frozen)
    for round_ in range(2 * v.HOT + 2):  # the shared __init__ first, then the compiled one
        for args, kwargs in CALLS:
            a, b = mine(*args, **kwargs), theirs(*args, **kwargs)
            assert repr(a).replace(mine.__qualname__, "X") == repr(b).replace(theirs.__qualname__, "X"), round_
    assert list(inspect.signature(mine).parameters) == ["size", "name", "tags", "note", "secret"]


@pytest.mark.parametrize(
    ("args", "kwargs", "says"),
    [
        ((), {}, "missing 1 required positional argument: 'size'"),
        ((1,), {"size": 2}, "got multiple values for argument 'size'"),
        ((1,), {"colour": "red"}, "got an unexpected keyword argument 'colour'"),
        ((1, "a", [], "n", "s", "extra"), {}, "takes from 2 to 6 positional arguments but 7 were given"),
    ],
)
def test_a_wrong_call_gets_python_s_own_error_whether_compiled_or_not(args, kwargs, says):
    mine, _ = _pair(frozen=True)
    with pytest.raises(TypeError, match=re.escape(says)):
        mine(*args, **kwargs)  # the first call: the shared __init__ hands it to the compiled one
    with pytest.raises(TypeError, match=re.escape(says)):
        mine(*args, **kwargs)


def test_replace_refuses_a_field_the_value_does_not_have():
    @value
    class One:
        a: int

    with pytest.raises(TypeError, match="no field 'b'"):
        v.replace(One(1), b=2)


def test_methods_the_class_writes_itself_are_kept():
    @value
    class Named:
        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Named) and self.name.lower() == other.name.lower()

        def __hash__(self) -> int:
            return hash(self.name.lower())

    assert repr(Named("A")) == "<A>"
    assert Named("A") == Named("a") and hash(Named("A")) == hash(Named("a"))


def test_a_required_field_after_a_default_is_refused_when_the_class_is_made():
    with pytest.raises(TypeError, match="'b' without a default follows 'a'"):

        @value
        class Wrong:
            a: int = 0
            b: int  # type: ignore[misc]


@pytest.mark.parametrize("default", [[], {}, set()])
def test_a_mutable_default_is_refused_as_dataclasses_refuse_it(default):
    with pytest.raises(ValueError, match=re.escape("use field(default_factory=...)")):

        @value
        class Shared:
            items: list = default


def test_a_value_of_another_class_with_the_same_fields_is_not_equal():
    @value
    class A:
        x: int

    @value
    class B:
        x: int

    assert A(1) != B(1) and A(1) == A(1)


def test_match_finds_the_fields_by_position():
    @value
    class Pair:
        left: int
        right: int

    match Pair(1, 2):
        case Pair(a, b):
            assert (a, b) == (1, 2)
        case _:
            pytest.fail("Pair(a, b) did not match")


@pytest.mark.parametrize("parent_frozen,child_frozen", [(True, False), (False, True), (True, True), (False, False)])
def test_a_value_inherits_only_its_own_frozenness_as_a_dataclass(parent_frozen, child_frozen):
    """A mutable child of a frozen value (or the other way round) is refused as dataclasses
    refuse it, with the same words but the kind's name."""

    def make(decorate):
        parent = decorate(frozen=parent_frozen)(type("Parent", (), {"__annotations__": {"a": "int"}}))
        try:
            decorate(frozen=child_frozen)(type("Child", (parent,), {"__annotations__": {"b": "int"}}))
        except TypeError as e:
            return str(e)
        return None

    ours = make(value)
    theirs = make(dataclasses.dataclass)
    assert (ours is None) == (theirs is None)
    if theirs is not None:
        assert ours == theirs.replace("dataclass", "value")
