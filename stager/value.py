"""Value types: what stager used ``dataclasses`` for, at a fraction of the start-up cost.

Every stager command defines some fifty record classes before it does any work. The
standard ``@dataclass(frozen=True)`` compiles six generated methods per class and asks
``inspect`` for a signature to write a docstring: about 0.75 ms a class on Python 3.11,
some 35 ms of every run. ``@value`` gives the same classes (keyword or positional
``__init__`` with defaults, ``__post_init__``, ``__repr__``, ``__eq__``, ``__hash__`` when
frozen, assignment refused when frozen) and compiles only ``__init__``, whose speed
matters when a catalog of thousands of files is read, and that only once the class
has made :data:`HOT` values (a run makes a few values of most classes it uses); the
other methods are shared functions reading the fields through one
``operator.attrgetter``.

Type checkers see these classes as dataclasses (PEP 681, ``dataclass_transform``).
``replace()`` and ``fields()`` stand in for their ``dataclasses`` namesakes.
"""

from __future__ import annotations

import inspect  # click imports it: free here
import operator
from typing import Any, ClassVar, TypeVar, dataclass_transform

T = TypeVar("T")

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "MISSING"})()


class FrozenError(AttributeError):
    """An attempt to change a field of a frozen value (``dataclasses.FrozenInstanceError``)."""


class Field:
    """One field of a value type: its name, default (or factory), and whether it counts
    in equality and in the repr."""

    __slots__ = ("compare", "default", "default_factory", "name", "repr")

    def __init__(self, default: Any = _MISSING, default_factory: Any = _MISSING, compare=True, repr=True):
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("a field cannot have both a default and a default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, compare: bool = True, repr: bool = True) -> Any:
    """A field with a default or a factory for one (``list``, ``dict``), or left out of
    equality (``compare=False``) or the repr (``repr=False``)."""
    return Field(default, default_factory, compare, repr)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def value(cls: Any = None, /, *, frozen: bool = True) -> Any:
    """Make ``cls`` a value type from its annotated fields: frozen (and hashable) unless
    ``frozen=False``."""

    def wrap(c: type) -> type:
        return _build(c, frozen)

    return wrap if cls is None else wrap(cls)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a value type or of one of its values, in order."""
    return obj.__value_fields__


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of ``obj`` with ``changes`` made (the class's ``__post_init__`` runs again)."""
    for name in changes:
        if name not in obj.__value_names__:  # type: ignore[attr-defined]
            raise TypeError(f"{type(obj).__name__} has no field {name!r}")
    kwargs = {f.name: changes.get(f.name, getattr(obj, f.name)) for f in obj.__value_fields__}  # type: ignore[attr-defined]
    return type(obj)(**kwargs)


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):  # ``from __future__ import annotations``
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return getattr(annotation, "__origin__", annotation) is ClassVar


def _own_fields(cls: type) -> list[Field]:
    found = []
    for name, annotation in inspect.get_annotations(cls).items():  # the class's own, as written
        if _is_classvar(annotation):
            continue
        spec = cls.__dict__.get(name, _MISSING)
        f = spec if isinstance(spec, Field) else Field(default=spec)
        f.name = name
        if isinstance(f.default, (list, dict, set)):  # one list shared by every value: as dataclasses
            raise ValueError(f"{cls.__name__}.{name}: a mutable default; use field(default_factory=...)")
        if f.default is _MISSING:
            if name in cls.__dict__:
                delattr(cls, name)  # a factory's field: no class attribute, as dataclasses
        else:
            setattr(cls, name, f.default)
        found.append(f)
    return found


def _all_fields(cls: type) -> tuple[Field, ...]:
    merged: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get("__value_fields__", ()):
            merged[f.name] = f
    for f in _own_fields(cls):
        merged[f.name] = f
    return tuple(merged.values())


def _check_order(cls: type, all_fields: tuple[Field, ...]) -> None:
    """A field without a default cannot follow one with a default (as dataclasses)."""
    seen_default = None
    for f in all_fields:
        if f.default is not _MISSING or f.default_factory is not _MISSING:
            seen_default = f.name
        elif seen_default:
            raise TypeError(f"{cls.__name__}: field {f.name!r} without a default follows {seen_default!r}")


def _init(cls: type, all_fields: tuple[Field, ...], frozen: bool):
    """``__init__``, compiled for this class: one small function, as fast as a dataclass's."""
    env: dict[str, Any] = {"_MISSING": _MISSING, "_set": object.__setattr__}
    params, body = [], []
    for f in all_fields:
        n = f.name
        if f.default_factory is not _MISSING:
            env[f"_f_{n}"] = f.default_factory
            params.append(f"{n}=_MISSING")
            body.append(f"    if {n} is _MISSING: {n} = _f_{n}()")
        elif f.default is not _MISSING:
            env[f"_d_{n}"] = f.default
            params.append(f"{n}=_d_{n}")
        else:
            params.append(n)
        body.append(f"    _set(self, {n!r}, {n})" if frozen else f"    self.{n} = {n}")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(compile(source, f"<value {cls.__qualname__}>", "exec"), env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


#: Values a class makes through the shared ``__init__`` before its own is compiled.
HOT = 20


def _first_init(cls: type, all_fields: tuple[Field, ...], frozen: bool):
    """The class's ``__init__`` until it has made :data:`HOT` values: one shared function
    that binds the arguments itself, so a class a run uses a few times is never compiled
    (compiling is what made a value type costly: 0.2 ms a class, 9 ms of a staging).
    After that, or at once for any call it does not bind plainly (a missing, extra or
    repeated argument), the compiled ``__init__`` takes its place: Python's own checks
    and messages, and a dataclass's speed for a class made thousands of times."""
    names = tuple(f.name for f in all_fields)
    known = frozenset(names)
    later = [(f.name, f.default, f.default_factory) for f in all_fields]
    post_init = hasattr(cls, "__post_init__")
    made = [0]

    def compiled(self: Any, args: tuple, kwargs: dict) -> None:
        real = _init(cls, all_fields, frozen)
        type.__setattr__(cls, "__init__", real)
        real(self, *args, **kwargs)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        made[0] += 1
        if made[0] > HOT or len(args) > len(names) or not known.issuperset(kwargs):
            return compiled(self, args, kwargs)
        values = dict(zip(names, args, strict=False))  # the first len(args) fields
        for name, default, factory in later[len(args) :]:
            if name in kwargs:
                values[name] = kwargs[name]
            elif default is not _MISSING:
                values[name] = default
            elif factory is not _MISSING:
                values[name] = factory()
            else:
                return compiled(self, args, kwargs)  # a required argument missing: Python says which
        if kwargs and any(name in kwargs for name in names[: len(args)]):
            return compiled(self, args, kwargs)  # given twice, by position and by name: Python says so
        if frozen:
            self.__dict__.update(values)  # as object.__setattr__ for each field, past the refusal
        else:
            for name, given in values.items():
                setattr(self, name, given)  # a property's setter or __setattr__ runs, as compiled
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _getter(names: list[str]):
    if not names:
        return lambda self: ()
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda self: (one(self),)
    return operator.attrgetter(*names)


def _check_bases(cls: type, frozen: bool) -> None:
    """A value type inherits only from value types of its own frozenness, as a dataclass
    does: a mutable child of a frozen value would let its parent's fields be changed."""
    bases = [b.__dict__["__value_frozen__"] for b in cls.__mro__[1:] if "__value_frozen__" in b.__dict__]
    if bases and any(bases) and not frozen:
        raise TypeError("cannot inherit non-frozen value from a frozen one")
    if bases and not any(bases) and frozen:
        raise TypeError("cannot inherit frozen value from a non-frozen one")


def _build(cls: type, frozen: bool) -> type:
    _check_bases(cls, frozen)
    all_fields = _all_fields(cls)
    compared = _getter([f.name for f in all_fields if f.compare])
    shown = [f.name for f in all_fields if f.repr]
    own = cls.__dict__
    explicit_hash = own.get("__hash__") is not None  # a class body's own __eq__ sets it to None
    c: Any = cls  # the methods are set on the class object, which type checkers take as read-only
    c.__value_fields__ = all_fields
    c.__value_frozen__ = frozen
    c.__value_names__ = frozenset(f.name for f in all_fields)
    type.__setattr__(cls, "__match_args__", tuple(f.name for f in all_fields))  # mypy refuses c.__match_args__ =
    _check_order(cls, all_fields)
    c.__init__ = _first_init(cls, all_fields, frozen)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(compared(self))

    if "__repr__" not in own:
        c.__repr__ = __repr__
    if "__eq__" not in own:
        c.__eq__ = __eq__
    if frozen:
        if not explicit_hash:
            c.__hash__ = __hash__
        c.__setattr__ = _refuse_set
        c.__delattr__ = _refuse_delete
    elif not explicit_hash:
        c.__hash__ = None  # equal by value and mutable: unhashable, as a dataclass
    return cls


def _refuse_set(self: Any, name: str, value: Any) -> None:
    raise FrozenError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")


def _refuse_delete(self: Any, name: str) -> None:
    raise FrozenError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")
