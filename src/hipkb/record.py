"""Records: the classes hipkb's model, case and result types are made of.

A record is declared like a dataclass (annotated fields, defaults,
``field(default_factory=..., compare=False, repr=False, init=False)``,
``__post_init__``, inheritance) and behaves like a frozen one unless
``frozen=False``: positional or keyword construction, value equality and
hashing over the compared fields, a ``Name(a=1, b=2)`` repr, and no
assignment after construction.

Why not :mod:`dataclasses`: it generates six methods a class with
``exec`` when the module is imported (about 0.5 ms a frozen class on
Python 3.11), which made hipkb's classes a fifth of a cold ``hipkb
assess``. A record generates ``__init__`` only, in one ``compile``;
equality, hashing, ordering and repr are shared functions. Type checkers
see records as dataclasses (:pep:`681`).

>>> @record
... class Point:
...     x: int
...     y: int = 0
>>> p = Point(1)
>>> p
Point(x=1, y=0)
>>> p == Point(1, 0), hash(p) == hash(Point(x=1)), p == (1, 0)
(True, True, False)
>>> replace(p, y=2)
Point(x=1, y=2)
>>> [f.name for f in fields(Point)]
['x', 'y']
>>> p.x = 3
Traceback (most recent call last):
...
hipkb.record.FrozenRecordError: cannot assign to field 'x'
"""

from __future__ import annotations

import reprlib
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorated: decorated

__all__ = ["record", "field", "fields", "replace", "is_record", "Field", "FrozenRecordError"]

_T = TypeVar("_T")
_FIELDS = "__record_fields__"


class FrozenRecordError(AttributeError):
    """Raised on assigning to (or deleting) a field of a frozen record."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    """One field of a record: its name, default and roles."""

    __slots__ = ("name", "default", "default_factory", "init", "repr", "compare")

    def __init__(self, default: Any, default_factory: Any, init: bool, repr: bool, compare: bool) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, init={self.init}, repr={self.repr}, compare={self.compare})"


@overload
def field(*, default: _T, init: bool = ..., repr: bool = ..., compare: bool = ...) -> _T: ...
@overload
def field(*, default_factory: Callable[[], _T], init: bool = ..., repr: bool = ..., compare: bool = ...) -> _T: ...
@overload
def field(*, init: bool = ..., repr: bool = ..., compare: bool = ...) -> Any: ...
def field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """Declare a field with a default, a factory, or a role other than the usual (as ``dataclasses.field``)."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, init, repr, compare)


@overload
def record(cls: type[_T], /) -> type[_T]: ...
@overload
def record(*, frozen: bool = True, eq: bool = True, order: bool = False) -> Callable[[type[_T]], type[_T]]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(
    cls: type[_T] | None = None, /, *, frozen: bool = True, eq: bool = True, order: bool = False
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make ``cls`` a record (frozen, compared by value); ``@record(frozen=False)`` for a mutable one."""

    def wrap(target: type[_T]) -> type[_T]:
        return _process(target, frozen=frozen, eq=eq, order=order)

    return wrap if cls is None else wrap(cls)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record class or instance, in declaration order (a base's first)."""
    try:
        return tuple(getattr(obj, _FIELDS).values())
    except AttributeError:
        raise TypeError(f"{obj!r} is not a record or a record class") from None


def is_record(obj: Any) -> bool:
    """Whether ``obj`` is a record class or instance."""
    return hasattr(obj, _FIELDS)


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of the record ``obj`` with ``changes`` (field name → new value), built by its ``__init__``."""
    for item in fields(obj):
        if not item.init:
            if item.name in changes:
                raise ValueError(f"field {item.name!r} is set by the record itself and cannot be replaced")
        elif item.name not in changes:
            changes[item.name] = getattr(obj, item.name)
    return obj.__class__(**changes)


# --------------------------------------------------------------------------
# Building the class


def _process(cls: type[_T], *, frozen: bool, eq: bool, order: bool) -> type[_T]:
    table: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        table.update(base.__dict__.get(_FIELDS, {}))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if _is_classvar(annotation):
            continue
        declared = cls.__dict__.get(name, MISSING)
        item = declared if isinstance(declared, Field) else Field(declared, MISSING, True, True, True)
        item.name = name
        if isinstance(item.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(item.default)} for field {name} is not allowed: use default_factory")
        if isinstance(declared, Field):
            if item.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, item.default)
        table[name] = item
    setattr(cls, _FIELDS, table)
    _set(cls, "__init__", _make_init(cls, tuple(table.values()), frozen))
    shown = tuple(f.name for f in table.values() if f.repr)
    _set(cls, "__repr__", _make_repr(shown))
    if eq:
        key = _key([f.name for f in table.values() if f.compare])
        _set(cls, "__eq__", _make_compare(key, "__eq__"))
        if "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
            setattr(cls, "__hash__", _make_hash(key) if frozen else None)
        if order:
            for name in ("__lt__", "__le__", "__gt__", "__ge__"):
                _set(cls, name, _make_compare(key, name))
    if frozen:
        _set(cls, "__setattr__", _frozen_setattr)
        _set(cls, "__delattr__", _frozen_delattr)
    return cls


def _is_classvar(annotation: Any) -> bool:
    # a string under ``from __future__ import annotations``, else the object (its repr is "typing.ClassVar[...]")
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _set(cls: type, name: str, value: Any) -> None:
    """Add a method unless the class body defines its own (as dataclasses do)."""
    if name not in cls.__dict__:
        if value not in (_frozen_setattr, _frozen_delattr):  # shared: keep their own names
            value.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, value)


def _make_init(cls: type, table: tuple[Field, ...], frozen: bool) -> Callable[..., None]:
    """``__init__`` for these fields: one compile, positional or keyword arguments, defaults, factories."""
    names: dict[str, Any] = {"__set": object.__setattr__, "__MISSING": MISSING}
    params: list[str] = []
    body: list[str] = []
    seen_default = False
    for i, item in enumerate(table):
        if item.default_factory is not MISSING:
            names[f"__factory{i}"] = item.default_factory
        if item.init:
            if item.default is not MISSING:
                names[f"__default{i}"] = item.default
                params.append(f"{item.name}=__default{i}")
                seen_default = True
            elif item.default_factory is not MISSING:
                params.append(f"{item.name}=__MISSING")
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {item.name!r} follows default argument")
            else:
                params.append(item.name)
            value = item.name
            if item.default_factory is not MISSING:
                value = f"__factory{i}() if {item.name} is __MISSING else {item.name}"
        elif item.default_factory is not MISSING:
            value = f"__factory{i}()"
        elif item.default is not MISSING:
            names[f"__default{i}"] = item.default
            value = f"__default{i}"
        else:
            continue  # init=False and no default: set by the class itself
        body.append(f"  __set(self, {item.name!r}, {value})" if frozen else f"  self.{item.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    code = compile(source, f"<record {cls.__module__}.{cls.__qualname__}>", "exec")
    exec(code, names)  # noqa: S102  (our own text, built from field names alone)
    init: Callable[..., None] = names["__init__"]
    return init


def _key(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of compared field values of an instance, at C speed."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return attrgetter(*names)


def _make_compare(key: Callable[[Any], tuple[Any, ...]], name: str) -> Callable[[Any, Any], Any]:
    compare = getattr(tuple, name)

    def method(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return compare(key(self), key(other))

    method.__name__ = name
    return method


def _make_hash(key: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __hash__


def _make_repr(shown: tuple[str, ...]) -> Callable[[Any], str]:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r}")
