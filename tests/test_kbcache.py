"""The KB cache (hipkb.kbcache): same results from the cache as from the YAML, and never a way in.

DESIGN ("Cold start"): a parsed KB may be cached, keyed by a hash of the KB
files' bytes and hipkb's version, as JSON or marshal data in the user cache
directory, never pickle (a cache another user can write must not be a way
to run code), rebuilt silently when stale or unreadable. The issue adds:
HIPKB_CACHE_DIR is honoured, a read-only or missing cache directory
silently disables caching, a corrupt or tampered entry is rebuilt, never a
crash, never a wrong result.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import shutil
import stat
import threading
from pathlib import Path

import pytest

import hipkb
from hipkb import kbcache
from hipkb.errors import KBError
from hipkb.kb import bundled_kb_path, load_model

DEMO = {"subject": "t", "findings": {"supine_hip_ir": {"left": 12, "right": 40}, "straight_leg_raise": {"left": 45},
                                     "hip_hike": "left", "rib_cage_side_bend": True}}


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("HIPKB_CACHE_DIR", str(folder))
    return folder


@pytest.fixture()
def kb_copy(tmp_path):
    target = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), target)
    return target


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("kb-*.cache")) if folder.is_dir() else []


def _no_yaml(monkeypatch):
    """Make any YAML parse fail: a load that still works came from the cache."""
    import hipkb.source

    def refuse(*args, **kwargs):
        raise AssertionError("parsed YAML although the cache holds this KB")

    monkeypatch.setattr(hipkb.source, "_parse_yaml", refuse)


def _json(kb, case=DEMO):
    return json.dumps(kb.assess(case).to_dict(), sort_keys=True)


def _uncached(path=None):
    model = load_model(path)
    return model, hipkb.infer.KnowledgeBase.from_model(model)


# -- the cache works and changes nothing


def test_second_load_comes_from_the_cache_and_is_the_same_kb(cache, monkeypatch):
    first = hipkb.load_kb()
    [entry] = _entries(cache)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    model, plain = _uncached()
    _no_yaml(monkeypatch)
    second = hipkb.load_kb()
    assert second == plain == first  # every table, item by item
    for table in ("states", "findings", "rules", "recommendations", "links", "thresholds"):
        assert [i.location for i in getattr(second, table).values()] == [i.location for i in getattr(model, table).values()]
    assert [b.index for b in second.branches] == [b.index for b in model.branches]
    assert _json(second) == _json(plain) == _json(first)
    assert second.engine("compiled").firings == plain.engine("compiled").firings
    assert second.engine("compiled").source == plain.engine("compiled").source


def test_results_from_the_cache_equal_uncached_results_on_many_cases(cache):
    from hipkb.batch import sample_cases

    hipkb.load_kb()
    cached = hipkb.load_kb()
    _, plain = _uncached()
    for case in sample_cases(plain, 150, seed=11):
        assert _json(cached, case) == _json(plain, case)


def test_an_edited_kb_is_read_again(cache, kb_copy, monkeypatch):
    assert hipkb.load_kb(kb_copy).states["ir_limited"].label == "Hip internal rotation limited"
    states = kb_copy / "states.yaml"
    states.write_text(states.read_text(encoding="utf-8").replace(
        "label: Hip internal rotation limited", "label: IR limited (edited)", 1), encoding="utf-8")
    assert hipkb.load_kb(kb_copy).states["ir_limited"].label == "IR limited (edited)"
    assert len(_entries(cache)) == 1  # one entry per KB directory, replaced
    _no_yaml(monkeypatch)
    assert hipkb.load_kb(kb_copy).states["ir_limited"].label == "IR limited (edited)"


def test_a_kb_with_errors_raises_the_loaders_error_and_is_not_cached(cache, kb_copy):
    causal = kb_copy / "causal.yaml"
    causal.write_text(causal.read_text(encoding="utf-8").replace("effect: outlet_not_opening", "effect: outlet_opned", 1), encoding="utf-8")
    with pytest.raises(KBError) as cached_error:
        hipkb.load_kb(kb_copy)
    with pytest.raises(KBError) as plain_error:
        load_model(kb_copy)
    assert str(cached_error.value) == str(plain_error.value)
    assert "outlet_opned" in str(cached_error.value) and "did you mean 'outlet_not_opening'" in str(cached_error.value)
    assert _entries(cache) == []


def test_an_unexpected_file_in_the_kb_is_still_an_error(cache, kb_copy):
    hipkb.load_kb(kb_copy)
    (kb_copy / "rulez.yaml").write_text("rules: []\n", encoding="utf-8")
    with pytest.raises(KBError, match="unexpected file"):
        hipkb.load_kb(kb_copy)


def test_threads_loading_at_once(cache):
    out, errors = [], []

    def run():
        try:
            out.append(_json(hipkb.load_kb()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(out)) == 1
    assert len(_entries(cache)) == 1


# -- where the cache lives


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HIPKB_CACHE_DIR", str(tmp_path / "x"))
    assert kbcache.cache_directory() == tmp_path / "x"
    monkeypatch.setenv("HIPKB_CACHE_DIR", "")
    assert kbcache.cache_directory() is None
    monkeypatch.delenv("HIPKB_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kbcache.cache_directory() == tmp_path / "xdg" / "hipkb"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the XDG spec: ignore a relative path
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert kbcache.cache_directory() == tmp_path / "home" / ".cache" / "hipkb"


def test_an_empty_cache_dir_variable_turns_the_cache_off(monkeypatch, tmp_path):
    monkeypatch.setenv("HIPKB_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    hipkb.load_kb()
    assert list(tmp_path.iterdir()) == []


def test_an_unusable_cache_directory_silently_disables_the_cache(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("HIPKB_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert _json(hipkb.load_kb()) == _json(_uncached()[1])
    monkeypatch.setenv("HIPKB_CACHE_DIR", str(blocker))  # a file, not a directory
    assert _json(hipkb.load_kb()) == _json(_uncached()[1])
    assert blocker.read_text() == "not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a read-only directory")
def test_a_read_only_cache_directory_is_not_written(cache):
    cache.mkdir(mode=0o500)
    hipkb.load_kb()
    assert _entries(cache) == []


def test_a_directory_others_can_write_is_not_used(cache, monkeypatch):
    cache.mkdir()
    hipkb.load_kb()
    [entry] = _entries(cache)
    _poison(entry)
    os.chmod(cache, 0o777)
    assert hipkb.load_kb().states["ir_limited"].label == "Hip internal rotation limited"
    os.chmod(cache, 0o700)


# -- damaged, stale, foreign or hostile entries


def _entry_parts(entry: Path):
    raw = entry.read_bytes()
    head = len(kbcache.MAGIC) + 65
    return raw[:head], marshal.loads(raw[head:])


def _write_entry(entry: Path, payload_obj, *, mode=0o600):
    payload = marshal.dumps(payload_obj)
    from _blake2 import blake2b

    entry.write_bytes(kbcache.MAGIC + blake2b(payload, digest_size=32).hexdigest().encode() + b"\n" + payload)
    os.chmod(entry, mode)


def _poison(entry: Path, *, mode=0o600):
    """A well-formed entry for the right key whose data says something else: a wrong result if it were used."""
    _, payload = _entry_parts(entry)
    fmt, key, shown, name, version, tables, code, firings = payload
    text = marshal.dumps(tables).replace(b"Hip internal rotation limited", b"POISONED internal rotation xx")
    _write_entry(entry, (fmt, key, shown, name, version, marshal.loads(text), code, firings), mode=mode)


@pytest.mark.parametrize("damage", [
    "truncated", "empty", "garbage", "flipped byte", "wrong magic", "bad digest", "another format", "not a tuple",
])
def test_a_damaged_entry_is_rebuilt_silently(cache, damage):
    hipkb.load_kb()
    [entry] = _entries(cache)
    raw = entry.read_bytes()
    head, payload = _entry_parts(entry)
    if damage == "truncated":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "garbage":
        entry.write_bytes(os.urandom(4096))
    elif damage == "flipped byte":
        entry.write_bytes(raw[:-100] + bytes([raw[-100] ^ 0x40]) + raw[-99:])
    elif damage == "wrong magic":
        entry.write_bytes(b"x" + raw[1:])
    elif damage == "bad digest":
        entry.write_bytes(head[:-10] + b"0000000000" + marshal.dumps(payload))
    elif damage == "another format":
        _write_entry(entry, (99,) + payload[1:])
    elif damage == "not a tuple":
        _write_entry(entry, {"format": 1})
    assert _json(hipkb.load_kb()) == _json(_uncached()[1])
    [rebuilt] = _entries(cache)
    assert rebuilt.read_bytes() == raw  # written again, whole


@pytest.mark.parametrize("tamper", [
    "set in the tables", "unknown class", "too few fields", "missing table", "id not text", "bad firings",
    "deep nesting", "name not text",
])
def test_a_malformed_entry_with_a_valid_digest_is_rebuilt(cache, tamper):
    hipkb.load_kb()
    [entry] = _entries(cache)
    _, (fmt, key, shown, name, version, tables, code, firings) = _entry_parts(entry)
    states = tables["states"]
    first = next(iter(states))
    if tamper == "set in the tables":
        states[first] = {1, 2}
    elif tamper == "unknown class":
        states[first] = [99] + states[first][1:]
    elif tamper == "too few fields":
        states[first] = states[first][:2]
    elif tamper == "missing table":
        del tables["links"]
    elif tamper == "id not text":
        states[1] = states.pop(first)
    elif tamper == "bad firings":
        firings = ((10**6, "left"),) + firings[1:]
    elif tamper == "deep nesting":
        deep: list = []
        for _ in range(1500):  # marshal nests up to 2000 levels
            deep = [deep]
        states[first] = deep
    elif tamper == "name not text":
        name = 1
    _write_entry(entry, (fmt, key, shown, name, version, tables, code, firings))
    assert _json(hipkb.load_kb()) == _json(_uncached()[1])


def _every_field(value):
    """A record's whole content, compared fields or not (locations are not compared by ==)."""
    from hipkb.record import fields, is_record

    if is_record(value):
        return (type(value).__name__, tuple((f.name, _every_field(getattr(value, f.name))) for f in fields(value)))
    if isinstance(value, tuple):
        return tuple(_every_field(v) for v in value)
    if hasattr(value, "items"):
        return tuple((k, _every_field(v)) for k, v in value.items())
    return value


def test_the_model_from_the_cache_is_the_loaded_model_down_to_every_location(cache, monkeypatch):
    hipkb.load_kb()
    model, _ = _uncached()
    _no_yaml(monkeypatch)
    cached, _ = kbcache.load()
    for table in ("sources", "entities", "states", "findings", "thresholds", "links", "rules", "recommendations"):
        assert _every_field(getattr(cached, table)) == _every_field(getattr(model, table)), table
    assert _every_field(cached.inference_rules) == _every_field(model.inference_rules)
    assert _every_field(cached.branches) == _every_field(model.branches)
    assert (cached.name, cached.version, cached.directory) == (model.name, model.version, model.directory)
    assert cached.branch_status == model.branch_status and cached.positions == model.positions


def test_a_kb_loaded_under_another_name_reports_locations_under_that_name(cache, kb_copy, monkeypatch):
    monkeypatch.chdir(kb_copy.parent)
    assert str(hipkb.load_kb("kb").states["ir_limited"].location).startswith("kb/states.yaml:")
    absolute = hipkb.load_kb(kb_copy)
    assert str(absolute.states["ir_limited"].location).startswith(f"{kb_copy}/states.yaml:")
    assert absolute.directory == str(kb_copy)
    assert len(_entries(cache)) == 1


def test_hostile_code_in_an_entry_is_never_run(cache, tmp_path):
    marker = tmp_path / "ran"
    hipkb.load_kb()
    [entry] = _entries(cache)
    _, (fmt, key, shown, name, version, tables, code, firings) = _entry_parts(entry)
    hostile = compile(f"import os\nopen({str(marker)!r}, 'w').write('x')\ndef evaluate(F, G, T):\n    return []\n", "x", "exec")
    _write_entry(entry, (fmt, key, shown, name, version, tables, hostile, firings))
    assert _json(hipkb.load_kb()) == _json(_uncached()[1])
    assert not marker.exists()


def test_an_entry_others_can_write_is_ignored(cache):
    hipkb.load_kb()
    [entry] = _entries(cache)
    _poison(entry, mode=0o666)
    assert hipkb.load_kb().states["ir_limited"].label == "Hip internal rotation limited"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_an_entry_owned_by_another_user_is_ignored(cache):
    hipkb.load_kb()
    [entry] = _entries(cache)
    _poison(entry)
    os.chown(entry, 65534, 65534)
    assert hipkb.load_kb().states["ir_limited"].label == "Hip internal rotation limited"


def test_a_symlinked_entry_is_not_followed(cache, tmp_path):
    hipkb.load_kb()
    [entry] = _entries(cache)
    elsewhere = tmp_path / "elsewhere.cache"
    shutil.copy(entry, elsewhere)
    _poison(elsewhere)
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert hipkb.load_kb().states["ir_limited"].label == "Hip internal rotation limited"


def test_a_fifo_in_place_of_the_entry_does_not_block(cache):
    hipkb.load_kb()
    [entry] = _entries(cache)
    entry.unlink()
    os.mkfifo(entry)
    assert _json(hipkb.load_kb()) == _json(_uncached()[1])


def test_no_pickle_in_the_cache_module():
    text = Path(kbcache.__file__).read_text(encoding="utf-8")
    assert "import pickle" not in text and "pickle.load" not in text


def test_clear_removes_the_entries(cache):
    hipkb.load_kb()
    assert kbcache.entry_path() == _entries(cache)[0]
    assert kbcache.clear() == 1 and _entries(cache) == []


def test_a_code_object_read_back_is_checked_for_the_shape_generate_gives_it():
    # kbcache's module docstring: a cache entry is "rebuilt when stale or unreadable"; the evaluator code read
    # back must look like what generate() compiles (its names, constants and firing numbers), else it is a
    # damaged entry (ValueError) and never runs. Each hand-made code object breaks one of those.
    from hipkb.engines.compiled import CompiledEvaluator
    from hipkb.kb import load_model

    model = load_model()
    real = CompiledEvaluator(model)
    n = len(real.firings)
    again = CompiledEvaluator.from_code(model, real.code, real.firings)
    assert again.firings == real.firings

    def code(body: str):
        return compile(f"def evaluate(F, S, T):\n{body}\n", "<cache>", "exec")

    broken = {
        "unexpected name 'open' in the evaluator code": code("    return open"),
        "unexpected name '_partx' in the evaluator code": code("    return _partx"),
        "unexpected constant in the evaluator code": code("    return (1, 'a')"),
        "firing number out of range in the evaluator code": code(f"    return [{n}]"),
    }
    for message, bad in broken.items():
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            CompiledEvaluator.from_code(model, bad, real.firings)
    assert CompiledEvaluator.from_code(model, code(f"    return [{n - 1}, _part7, _part12]"), real.firings).firings == real.firings
    with pytest.raises(ValueError, match="^unexpected constant in the evaluator code$"):
        CompiledEvaluator.from_code(model, code("    return b'x'"), real.firings)
    with pytest.raises(ValueError, match="^not a generated evaluator$"):
        CompiledEvaluator.from_code(model, "def evaluate(): pass", real.firings)  # type: ignore[arg-type]
    for firings in (([0, "left"],), ((0, "lft"),), ((len(model.branches), "left"),), ((0,),), (("0", "left"),)):
        with pytest.raises(ValueError, match="^firings table does not match the KB$"):
            CompiledEvaluator.from_code(model, real.code, firings)  # type: ignore[arg-type]
    last = ((len(model.branches) - 1, None),)
    assert CompiledEvaluator.from_code(model, code("    return [0]"), last).firings == last
    with pytest.raises(ValueError, match="^firing number out of range in the evaluator code$"):
        CompiledEvaluator.from_code(model, code("    return [1]"), last)


def test_generated_code_runs_with_only_the_builtins_it_needs():
    # hipkb.engines.compiled: the generated evaluator (or one read back from the cache) sees set, len and
    # round and nothing else of Python's builtins: no open, no __import__, even if a damaged entry slipped by.
    from hipkb.engines.compiled import CompiledEvaluator
    from hipkb.kb import load_model

    model = load_model()
    for evaluator in (CompiledEvaluator(model), CompiledEvaluator.from_code(model, CompiledEvaluator(model).code,
                                                                           CompiledEvaluator(model).firings)):
        builtins = evaluator._evaluate.__globals__["__builtins__"]
        assert sorted(builtins) == ["len", "round", "set"]
        assert "def evaluate(" in evaluator.source  # regenerated for a cached code object
    with pytest.raises(ValueError, match="^the evaluator code defines no evaluate\\(\\)$"):
        CompiledEvaluator.from_code(model, compile("def get(F):\n    return []\n", "<cache>", "exec"), ())


def test_the_key_covers_every_module_that_reads_validates_or_builds_the_kb():
    # kbcache's docstring: an entry is keyed on the modules that shape it, so editing any of them
    # (a checkout between runs) never reads an entry written by the old code. Those are every hipkb
    # module kbcache imports, directly or through another, at the top or inside a function.
    import ast

    package = Path(kbcache.__file__).parent

    def file_of(name: str) -> Path | None:
        for candidate in (package / (name.replace(".", "/") + ".py"), package / name.replace(".", "/") / "__init__.py"):
            if candidate.exists():
                return candidate
        return None

    def imported_by(name: str) -> set[str]:
        path = file_of(name)
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = here[: len(here) - node.level + 1]
                targets = [".".join(base + [node.module])] if node.module else [".".join(base + [a.name]) for a in node.names]
                found.update(t for t in targets if file_of(t) is not None)
        return found

    closure, todo = set(), ["kbcache"]
    while todo:
        name = todo.pop()
        if name not in closure:
            closure.add(name)
            todo.extend(imported_by(name))
    assert closure <= set(kbcache._SHAPERS), closure - set(kbcache._SHAPERS)
