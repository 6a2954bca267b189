"""hipkb.record behaves as the standard library's frozen dataclasses do (the specification it replaces).

Each check declares the same class twice, once with ``dataclasses`` and once
with ``record``, and compares what a user sees: construction, repr,
equality, hashing, ordering, immutability, defaults, pickling and replace.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import threading
import typing
from typing import Any, ClassVar

import pytest

from hipkb.record import FrozenRecordError, field, fields, is_record, record, replace


def twins(frozen: bool = True, order: bool = False, eq: bool = True) -> tuple[Any, Any]:
    """The same declaration as a stdlib dataclass and as a record."""
    made = []
    for decorate in (dataclasses.dataclass(frozen=frozen, order=order, eq=eq), record(frozen=frozen, order=order, eq=eq)):
        module = dataclasses if decorate.__module__ == "dataclasses" else None

        class Point:
            kind: ClassVar[str] = "point"
            code: typing.ClassVar[int] = 3
            x: int
            y: float = 0.0
            tags: tuple[str, ...] = (dataclasses.field if module else field)(default=())
            where: str | None = (dataclasses.field if module else field)(default=None, compare=False, repr=False)
            seen: list[int] = (dataclasses.field if module else field)(default_factory=list, compare=False)

        made.append(decorate(Point))
    return made[0], made[1]


@pytest.mark.parametrize("args, kwargs", [((1,), {}), ((1, 2.5), {"tags": ("a",)}), ((), {"x": 3, "where": "f:1"})])
def test_construction_and_repr_match_dataclasses(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    std, rec = twins()
    assert repr(rec(*args, **kwargs)) == repr(std(*args, **kwargs))
    assert "where" not in repr(rec(*args, **kwargs))  # repr=False


def test_missing_and_unknown_arguments_are_type_errors_as_in_dataclasses() -> None:
    std, rec = twins()
    for call in (lambda cls: cls(), lambda cls: cls(1, z=2), lambda cls: cls(1, 2, (), None, [], 9)):
        with pytest.raises(TypeError):
            call(std)
        with pytest.raises(TypeError):
            call(rec)


def test_equality_and_hash_use_compared_fields_only() -> None:
    _, rec = twins()
    a, b = rec(1, where="a.yaml:1"), rec(1, where="b.yaml:9")
    assert a == b and hash(a) == hash(b)  # compare=False ignores where
    assert rec(1) != rec(2)
    assert rec(1, 2.0) == rec(1, 2)  # values, not types, as tuples compare
    assert len({rec(1), rec(1), rec(2)}) == 2


def test_a_record_never_equals_another_class_with_the_same_values() -> None:
    std, rec = twins()
    assert rec(1) != std(1)
    assert rec(1) != (1, 0.0, (), [])
    assert rec(1).__eq__((1,)) is NotImplemented


def test_frozen_records_refuse_assignment_and_deletion() -> None:
    _, rec = twins()
    point = rec(1)
    with pytest.raises(FrozenRecordError, match="cannot assign to field 'x'"):
        point.x = 2
    with pytest.raises(AttributeError):
        point.new = 2
    with pytest.raises(FrozenRecordError, match="cannot delete field 'x'"):
        del point.x
    assert isinstance(FrozenRecordError("x"), AttributeError)  # as dataclasses.FrozenInstanceError


def test_mutable_records_assign_and_are_unhashable() -> None:
    std, rec = twins(frozen=False)
    point = rec(1)
    point.x = 5
    assert point == rec(5)
    assert std.__hash__ is None and rec.__hash__ is None


def test_default_factories_give_each_instance_its_own_value() -> None:
    _, rec = twins()
    a, b = rec(1), rec(1)
    a.seen.append(1)
    assert b.seen == []


def test_mutable_defaults_and_misordered_defaults_are_refused_as_in_dataclasses() -> None:
    with pytest.raises(ValueError, match="mutable default <class 'list'> for field items is not allowed"):
        @record
        class Bad:
            items: list[int] = []  # noqa: RUF012

    with pytest.raises(TypeError, match="non-default argument 'y' follows default argument"):
        @record
        class Misordered:
            x: int = 0
            y: int


def test_order_compares_like_tuples_of_compared_fields() -> None:
    std, rec = twins(order=True)
    pairs = [(1, 2.0), (1, 3.0), (0, 9.0)]
    assert sorted(rec(*p) for p in pairs) == [rec(*p) for p in sorted(pairs)]
    assert (rec(1) < rec(2)) == (std(1) < std(2))
    with pytest.raises(TypeError):
        _ = rec(1) < std(2)


def test_eq_false_keeps_identity() -> None:
    _, rec = twins(eq=False)
    a = rec(1)
    assert a != rec(1) and a == a
    assert len({a, rec(1)}) == 2  # hashed by identity, as object


def test_post_init_runs_after_the_fields_are_set() -> None:
    @record
    class Positive:
        value: int

        def __post_init__(self) -> None:
            if self.value <= 0:
                raise ValueError("must be positive")

    assert Positive(1).value == 1
    with pytest.raises(ValueError, match="must be positive"):
        Positive(0)


def test_init_false_fields_take_their_default_or_factory() -> None:
    @record
    class Holder:
        name: str
        lock: Any = field(default_factory=threading.Lock, init=False, compare=False, repr=False)
        count: int = field(default=0, init=False)

    one = Holder("a")
    assert one.count == 0 and one.lock is not Holder("a").lock
    with pytest.raises(TypeError):
        Holder("a", 1)  # type: ignore[call-arg]
    assert repr(one) == "test_init_false_fields_take_their_default_or_factory.<locals>.Holder(name='a', count=0)"


def test_inheritance_puts_the_base_fields_first() -> None:
    @record
    class Base:
        a: int
        b: int = 2

    @record
    class Child(Base):
        c: int = 3

    assert [f.name for f in fields(Child)] == ["a", "b", "c"]
    assert Child(1) == Child(1, 2, 3) and Child(1) != Base(1)
    assert repr(Child(1)).endswith("Child(a=1, b=2, c=3)")


def test_replace_fields_and_is_record() -> None:
    _, rec = twins()
    point = rec(1, tags=("a",))
    moved = replace(point, y=4.0)
    assert moved == rec(1, 4.0, ("a",)) and point.y == 0.0
    assert [f.name for f in fields(point)] == ["x", "y", "tags", "where", "seen"]  # the ClassVar is not a field
    assert is_record(point) and is_record(rec) and not is_record(1)
    with pytest.raises(TypeError):
        replace(point, z=1)
    with pytest.raises(TypeError, match="not a record"):
        fields(1)


def test_pickle_and_copy_round_trip() -> None:
    from hipkb.errors import Location

    where = Location("case.yaml", 3, 4)
    for clone in (pickle.loads(pickle.dumps(where)), copy.copy(where), copy.deepcopy(where)):
        assert clone == where and repr(clone) == repr(where)
        with pytest.raises(FrozenRecordError):
            clone.line = 1  # type: ignore[misc]


def test_the_packages_types_are_records_not_dataclasses() -> None:
    import hipkb

    result = hipkb.assess({"findings": {"supine_hip_ir": {"left": 12}}})
    conclusion = result.conclusions[0]
    assert is_record(result) and is_record(conclusion) and not dataclasses.is_dataclass(conclusion)
    with pytest.raises(AttributeError):
        conclusion.side = "right"  # type: ignore[misc]


def test_class_attributes_hold_the_defaults_as_in_dataclasses() -> None:
    std, rec = twins()
    for name in ("y", "tags", "where", "seen", "x", "kind", "code"):
        assert hasattr(rec, name) == hasattr(std, name), name
        if hasattr(std, name):
            assert getattr(rec, name) == getattr(std, name), name
    assert rec.__init__.__qualname__ == std.__init__.__qualname__
    assert rec.__repr__.__qualname__ == std.__repr__.__qualname__


def test_a_field_declared_with_field_is_compared_unless_told_otherwise() -> None:
    _, rec = twins()
    assert rec(1, tags=("a",)) != rec(1, tags=("b",))
    assert hash(rec(1)) != hash(rec(2))


def test_one_field_no_field_and_no_compared_field() -> None:
    @record
    class One:
        x: int

    @record
    class Empty:
        pass

    @record
    class Uncompared:
        where: str = field(default="", compare=False)

    assert One(1) == One(1) and One(1) != One(2) and hash(One(1)) == hash(One(1))
    assert Empty() == Empty() and repr(Empty()).endswith("Empty()") and hash(Empty()) == hash(Empty())
    assert Uncompared("a") == Uncompared("b") and hash(Uncompared("a")) == hash(Uncompared("b"))


def test_annotations_that_are_not_strings() -> None:
    # Without ``from __future__ import annotations`` a class holds real typing objects.
    namespace = {"__annotations__": {"x": int, "tally": ClassVar[int], "other": typing.ClassVar[str]}, "tally": 0}
    Plain = record(type("Plain", (), namespace))
    assert [f.name for f in fields(Plain)] == ["x"] and Plain(3).x == 3


def test_an_explicit_hash_is_kept_as_dataclasses_keep_it() -> None:
    made = []
    for decorate in (dataclasses.dataclass(frozen=True), record):
        class Hashed:
            x: int

            def __hash__(self) -> int:
                return 7

        made.append(decorate(Hashed))
    assert hash(made[0](1)) == hash(made[1](1)) == 7


def test_a_factory_default_followed_by_no_default_is_refused() -> None:
    with pytest.raises(TypeError, match="non-default argument 'y' follows default argument"):
        @record
        class Misordered:
            x: list[int] = field(default_factory=list)
            y: int


def test_fields_after_an_unset_init_false_field_are_still_set() -> None:
    @record(frozen=False)
    class Later:
        a: int
        cache: Any = field(init=False, repr=False)
        c: int  # no default: init=False fields are outside the ordering rule, as in dataclasses

    later = Later(1, 3)
    assert (later.a, later.c) == (1, 3) and not hasattr(later, "cache")
    later.cache = "set by the class"
    assert later.cache == "set by the class"


def test_field_refuses_both_a_default_and_a_factory_and_replace_refuses_init_false_fields() -> None:
    with pytest.raises(ValueError, match="^cannot specify both default and default_factory$"):
        field(default=1, default_factory=list)

    @record
    class Counted:
        name: str
        count: int = field(default=0, init=False)

    with pytest.raises(ValueError, match="^field 'count' is set by the record itself and cannot be replaced$"):
        replace(Counted("a"), count=2)
    assert replace(Counted("a"), name="b") == Counted("b")
