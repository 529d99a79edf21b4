"""mendbot's pytest plugin: it runs inside the test process of the project under repair.

Loaded with ``-p mendbot_pytest``. It has a namespaced name on purpose: the project under repair
may have a ``bot`` package of its own. It imports nothing from mendbot and only the standard
library, because it also runs inside containers where only pytest is installed.

It does three things:

* ``--mendbot-test-timeout=S``: a per-test wall-clock limit (SIGALRM), so one hanging test
  fails alone instead of hanging the run; a test that defeats it (ignores SIGALRM, catches the
  exception and loops on) is killed hard by a watchdog thread after the limit plus a grace
  period: its node id goes to ``mendbot-hanging.txt`` next to the JUnit XML and to stderr, and
  the whole test process is killed, so the runner can record it as hanging and run the rest;
* it records each test's node id, exception type and traceback frames as JUnit properties, so
  results read from JUnit XML are keyed by node id and carry structured frames;
* ``--mendbot-screen=BATCH.json --mendbot-out=RESULTS.jsonl``: the screening worker. It
  collects once, then for each candidate forks a child that swaps the changed functions'
  code objects in place (or re-imports a module from patched source), runs the selected tests
  and reports. Every child starts from the same freshly collected parent, so nothing one
  candidate does (globals, imports, monkeypatches) can reach another.
* ``--mendbot-serve=DIR``: the same worker kept alive, screening batch after batch as mendbot
  hands them over (see ``_serve``), so a repair pays for one start-up, not one per batch.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import importlib.abc
import importlib.machinery
import importlib.util
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import types
from pathlib import Path
from typing import Any

import pytest

import mendbot_writes

TIMEOUT_MARK = "mendbot-timeout"


def _import_from_the_tree() -> None:
    """Make the project import from the tree the tests run in, not from the user's checkout.

    A project installed in its environment in development mode (``pip install -e .``: a
    ``.pth`` path or an editable finder's mapping) points at the user's checkout, so the tests
    would import the code there, whatever mendbot changed in its own worktree. The paths that
    lie in the checkout (``MENDBOT_CHECKOUT``) are moved to the same place in the tree
    (``MENDBOT_TREE``) before the tests import anything of the project."""
    checkout, tree = os.environ.get("MENDBOT_CHECKOUT", ""), os.environ.get("MENDBOT_TREE", "")
    if not checkout or not tree:
        return
    checkout, tree = os.path.realpath(checkout), os.path.realpath(tree)
    if checkout == tree:
        return

    environment = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix)}

    def moved(path: str) -> str:
        if not path or not os.path.isabs(path):
            return path
        real = os.path.realpath(path)
        if any(real == e or real.startswith(e + os.sep) for e in environment):
            return path  # the environment itself (a .venv in the checkout) stays where it is
        relative = os.path.relpath(real, checkout)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return path
        there = tree if relative == os.curdir else os.path.join(tree, relative)
        return there if os.path.exists(there) else path

    sys.path[:] = [moved(entry) for entry in sys.path]
    for name, module in list(sys.modules.items()):
        mapping = getattr(module, "MAPPING", None) if name.startswith("__editable__") else None
        if isinstance(mapping, dict):  # setuptools' editable finder: package -> its folder
            for key, value in list(mapping.items()):
                if isinstance(value, str):
                    mapping[key] = moved(value)
    sys.path_importer_cache.clear()


_import_from_the_tree()


class TestTimeout(BaseException):
    """Raised in a test that ran past --mendbot-test-timeout."""

    __test__ = False


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("mendbot")
    group.addoption("--mendbot-test-timeout", type=float, default=0.0)
    group.addoption("--mendbot-screen", default=None)
    group.addoption("--mendbot-out", default=None)
    group.addoption("--mendbot-serve", default=None)
    group.addoption("--mendbot-coverage", default=None)
    group.addoption("--mendbot-order", default=None)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """``--mendbot-order=FILE`` (one node id a line): run those of the collected tests, in
    that order. The node ids never go on the command line, so the user's own arguments
    (``--deselect X``, ``-k``, paths) stay as they are, whatever the ids look like; the ids
    are mendbot's (``test_id``), so tests whose node ids change between runs are found."""
    _name_items(items)  # mendbot's ids: stable where the node ids are not
    path = config.getoption("mendbot_order", None)
    if not path:
        return
    wanted = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
    by_id = {test_id(item): item for item in items}
    chosen = [by_id[nodeid] for nodeid in dict.fromkeys(wanted) if nodeid in by_id]
    kept = {id(item) for item in chosen}
    left_out = [item for item in items if id(item) not in kept]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
    items[:] = chosen


VENDOR_FOLDER = "mendbot_vendor"  # beside this file: mendbot's own coverage.py, copied in


def _coverage_module() -> Any:
    """coverage.py for the per-test measurement: the test environment's own when it has one,
    else the copy mendbot put beside this plugin (found after everything on ``sys.path``, so
    it never shadows the project's). A project's environment often lacks coverage.py; without
    it localization would have only the tracebacks."""
    try:
        import coverage

        return coverage
    except ImportError:
        spare = os.path.join(os.path.dirname(os.path.abspath(__file__)), VENDOR_FOLDER)
        if not os.path.isdir(spare):
            raise
        sys.path.append(spare)
        import coverage

        return coverage


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> None:
    """Before the project's first line runs: exempt what exists now from garbage collection.

    What exists now is the interpreter's, pytest's and its plugins' (and, for a measured run,
    coverage.py's): objects that live as long as the process. Left to the collector, every
    full collection walks them all again, as do pytest's five collections at the end of the
    session, which is about a quarter of a short run's time. Everything the project creates
    (conftest files on) comes later, so its objects are collected, and their finalizers and
    unraisable-exception reports happen, exactly as in a plain pytest run.
    """
    gc.freeze()
    if getattr(early_config.known_args_namespace, "mendbot_coverage", None):
        with contextlib.suppress(ImportError):
            _coverage_module()
        gc.freeze()


@pytest.hookimpl(hookwrapper=True, specname="pytest_load_initial_conftests")
def pytest_load_initial_conftests_without_project_coverage(
    early_config: Any, parser: Any, args: Any
) -> Any:
    """The project's own coverage run (pytest-cov's ``--cov`` in its ``addopts``) is set
    aside in mendbot's runs, as ``--no-cov`` would: coverage.py measures one thing at a
    time, so it would pause mendbot's per-test measurement or be paused by it, and its
    thresholds and data files are about the project's reports, not about a repair.
    (A wrapper runs before every plugin's own hook, so pytest-cov sees it when it starts.)"""
    namespace = early_config.known_args_namespace
    if hasattr(namespace, "no_cov"):
        namespace.no_cov = True
    yield


class _WorkerState:
    active = False
    basetemp = ""
    session: Any = None


_WORKER = _WorkerState()


class _AlarmState:
    root = ""
    retries = 0


_ALARM = _AlarmState()
_RETRY_SECONDS = 0.01
_MAX_RETRIES = 300  # about three seconds of waiting for the test's own code


def _in_project(frame: Any) -> bool:
    filename = frame.f_code.co_filename
    return (
        filename.startswith(_ALARM.root)
        and "site-packages" not in filename
        and not filename.endswith("mendbot_pytest.py")
    )


def _on_alarm(signum: int, frame: Any) -> None:
    # Raise only inside the project's own code. An exception raised while a library (pytest,
    # coverage, logging, io) holds a lock can leave that lock taken and deadlock the run, so
    # elsewhere the alarm waits a moment and tries again; after a few seconds it gives up
    # waiting and raises anyway.
    if frame is not None and not _in_project(frame) and _ALARM.retries < _MAX_RETRIES:
        _ALARM.retries += 1
        signal.setitimer(signal.ITIMER_REAL, _RETRY_SECONDS)
        return
    raise TestTimeout(f"{TIMEOUT_MARK}: the test ran past its time limit")


HANGING_FILE = "mendbot-hanging.txt"
HANGING_MARK = "mendbot-hanging:"


def hard_limit(limit: float) -> float:
    """When a test that outlived its soft limit ``limit`` is killed: after a grace period
    longer than the alarm's own waiting for project code (about three seconds)."""
    return limit + max(5.0, limit / 2)


class _Watchdog:
    """A thread that kills this test process when a test runs past its hard limit.

    The soft limit (SIGALRM) asks a test to stop; a test can refuse (ignore the signal, catch
    the exception). The watchdog cannot be refused: Python hands the thread the interpreter
    lock every few milliseconds even while the test loops, and SIGKILL cannot be caught.
    """

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.nodeid = ""
        self.deadline = 0.0
        self.record = ""  # the file the hanging test's node id is appended to
        self.pid = 0

    def arm(self, nodeid: str, seconds: float, record: str) -> None:
        with self.condition:
            if self.pid != os.getpid():  # first use (or a forked child): a thread of our own
                self.pid = os.getpid()
                threading.Thread(target=self._watch, name="mendbot-watchdog", daemon=True).start()
            self.nodeid, self.deadline, self.record = nodeid, time.monotonic() + seconds, record
            self.condition.notify()

    def disarm(self) -> None:
        with self.condition:
            self.nodeid = ""
            self.condition.notify()

    def _watch(self) -> None:
        with self.condition:
            while True:
                if not self.nodeid:
                    self.condition.wait()
                    continue
                left = self.deadline - time.monotonic()
                if left > 0:
                    self.condition.wait(left)
                    continue
                self._kill()

    def _kill(self) -> None:
        line = f"{self.nodeid}\n".encode()
        if self.record:
            with contextlib.suppress(OSError):
                handle = os.open(self.record, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.write(handle, line)
                os.close(handle)
        with contextlib.suppress(OSError):
            os.write(2, f"\n{HANGING_MARK} {self.nodeid}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)


_WATCHDOG = _Watchdog()


def _watch(item: Any, limit: float) -> None:
    """Put a plain run's test call under the watchdog (screening children are stopped by the
    worker, which knows their deadlines)."""
    if _WORKER.active:
        return
    xmlpath = getattr(item.config.option, "xmlpath", None) or ""
    folder = os.path.dirname(os.path.abspath(xmlpath)) if xmlpath else ""
    _WATCHDOG.arm(
        item.nodeid, hard_limit(limit), os.path.join(folder, HANGING_FILE) if folder else ""
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Any:
    limit = float(item.config.getoption("--mendbot-test-timeout") or 0.0)
    if limit <= 0 or not hasattr(signal, "setitimer"):
        yield
        return
    _ALARM.root = str(item.config.rootpath)
    _ALARM.retries = 0
    _watch(item, limit)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        _WATCHDOG.disarm()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------- stable test ids

# Parts of a parametrized test's id that differ from one collection to the next: object
# addresses (``ids=repr`` over objects, ``<Thing object at 0x7f...>``), and times (a
# parameter made from ``time.time()`` or ``datetime.now()``).
_UNSTABLE_PARTS = (
    (re.compile(r"0x[0-9a-fA-F]{4,}"), "{addr}"),
    (
        re.compile(
            r"\d{4}-\d{2}-\d{2}[T _]\d{2}:\d{2}"  # a date and time, seconds and zone optional
            r"(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:?\d{2}|Z)?"
        ),
        "{time}",
    ),
    (re.compile(r"(?<![\w.])1[5-9]\d{8}(?:\.\d+)?(?![\w.])"), "{time}"),  # epoch seconds
    # a clock time to the second, in any date format around it (``strftime("%H:%M:%S ...")``)
    (re.compile(r"(?<![\d:])\d{1,2}:\d{2}:\d{2}(?:\.\d+)?(?![\d:])"), "{time}"),
)


def stable_nodeid(nodeid: str) -> str:
    """``nodeid`` with the unstable parts of its parameters replaced by placeholders."""
    start = nodeid.find("[")
    if start < 0:
        return nodeid
    params = nodeid[start:]
    for pattern, placeholder in _UNSTABLE_PARTS:
        params = pattern.sub(placeholder, params)
    return nodeid[:start] + params


def _name_items(items: list[Any]) -> None:
    """Give every item the id mendbot knows it by: its node id, with unstable parts replaced
    (and, where that makes two ids equal, numbered in collection order: ``#2``, ``#3``)."""
    seen: dict[str, int] = {}
    for item in items:
        stable = stable_nodeid(item.nodeid)
        if stable != item.nodeid:
            seen[stable] = seen.get(stable, 0) + 1
            if seen[stable] > 1:
                stable = f"{stable}#{seen[stable]}"
        item.mendbot_id = stable


def test_id(item: Any) -> str:
    """The id mendbot knows ``item`` by (its node id, unless that one is unstable)."""
    return str(getattr(item, "mendbot_id", item.nodeid))


_RELATIVE: dict[tuple[str, Path], str | None] = {}


def _relative(filename: str, root: Path) -> str | None:
    """``filename`` relative to ``root``, or None outside it (memoized: resolving a path
    costs a system call per component, and tracebacks repeat the same files)."""
    key = (filename, root)
    if key not in _RELATIVE:
        try:
            _RELATIVE[key] = Path(filename).resolve().relative_to(root).as_posix()
        except ValueError:
            _RELATIVE[key] = None
    return _RELATIVE[key]


def _frames(excinfo: Any, root: Path) -> list[list[Any]]:
    frames: list[list[Any]] = []
    tb = excinfo.tb
    while tb is not None:
        code = tb.tb_frame.f_code
        relative = _relative(code.co_filename, root)
        if relative is not None:
            frames.append([relative, tb.tb_lineno, code.co_qualname])
        tb = tb.tb_next
    return frames[-12:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    if call.when == "setup":
        item.user_properties.append(("mendbot_nodeid", test_id(item)))
    excinfo = call.excinfo
    screening = _WORKER.active  # a worker reads outcomes only, never frames
    if excinfo is not None and not screening and not excinfo.errisinstance(pytest.skip.Exception):
        root = Path(str(item.config.rootpath)).resolve()
        exc_type = excinfo.type.__name__
        if excinfo.errisinstance(TestTimeout):
            exc_type = "Timeout"
        item.user_properties.append(("mendbot_exc", exc_type))
        item.user_properties.append(("mendbot_frames", json.dumps(_frames(excinfo, root))))
    yield


# --------------------------------------------------------------------------- screening worker


class _SourceOverride(importlib.abc.MetaPathFinder):
    """Serves patched source for modules that were not imported before the fork."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.origin is None:
            return None
        origin = str(Path(spec.origin).resolve())
        if origin not in self.sources:
            return None
        source = self.sources[origin]

        class Loader(importlib.abc.SourceLoader):
            def get_filename(self, fullname: str) -> str:
                return origin

            def get_data(self, data_path: str) -> bytes:
                return source.encode()

        return importlib.util.spec_from_file_location(
            name,
            origin,
            loader=Loader(),
            submodule_search_locations=spec.submodule_search_locations,
        )


def _swap_function(old: Any, new: Any, kept: dict[int, Any] | None = None) -> bool:
    old_function = getattr(old, "__func__", old)
    new_function = getattr(new, "__func__", new)
    old_function = getattr(old_function, "__wrapped__", old_function)
    new_function = getattr(new_function, "__wrapped__", new_function)
    if not isinstance(old_function, types.FunctionType) or not isinstance(
        new_function, types.FunctionType
    ):
        return False
    if old_function.__code__.co_freevars != new_function.__code__.co_freevars:
        return False
    old_function.__code__ = new_function.__code__
    old_function.__defaults__ = _kept_defaults(
        old_function.__defaults__, new_function.__defaults__, kept
    )
    if old_function.__kwdefaults__ is None or new_function.__kwdefaults__ is None:
        old_function.__kwdefaults__ = new_function.__kwdefaults__
    else:
        old_kw, new_kw = old_function.__kwdefaults__, new_function.__kwdefaults__
        old_function.__kwdefaults__ = {
            name: _same_or_new(old_kw.get(name, _ABSENT), value, kept)
            for name, value in new_kw.items()
        }
    return True


_ABSENT = object()


def _same_or_new(old: Any, new: Any, kept: dict[int, Any] | None = None) -> Any:
    """The value a default or class attribute should have after the swap. The candidate's
    module is executed again to get its new functions, so every default and class attribute
    is made again: a sentinel default (``default=NOTHING``) would become a second object
    that the code, which compares with the module's own, never recognises. A module-level
    value whose statement did not change (``kept``: new object's id -> the old object) is
    the old object; a value that only looks the same (same type and repr) stays the old
    one; anything else is the new value."""
    if kept is not None and id(new) in kept:
        return kept[id(new)]
    if old is _ABSENT or old is new:
        return new
    try:
        same = type(old) is type(new) and repr(old) == repr(new)
    except Exception:  # a repr that fails: take the new value
        same = False
    return old if same else new


def _kept_defaults(
    old: tuple[Any, ...] | None, new: tuple[Any, ...] | None, kept: dict[int, Any] | None
) -> Any:
    if new is None:
        return None
    if old is None or len(old) != len(new):
        return tuple(_same_or_new(_ABSENT, after, kept) for after in new)
    return tuple(_same_or_new(before, after, kept) for before, after in zip(old, new, strict=True))


def _swap_property(
    old_value: property, new_value: property, kept: dict[int, Any] | None = None
) -> bool:
    """Give a property's accessor functions their new code; False where a part is not a
    plain function on both sides (``property(attrgetter("first"))``) or is added or removed."""
    for part in ("fget", "fset", "fdel"):
        new_part, old_part = getattr(new_value, part), getattr(old_value, part)
        if (new_part is None) != (old_part is None):
            return False
        if new_part is not None and not _swap_function(old_part, new_part, kept):
            return False
    return True


def _patch_class(old_class: type, new_class: type, kept: dict[int, Any] | None = None) -> bool:
    for name, new_value in vars(new_class).items():
        if name in ("__dict__", "__weakref__", "__module__", "__doc__", "__qualname__"):
            continue
        old_value = vars(old_class).get(name)
        if type(new_value).__name__ in ("member_descriptor", "getset_descriptor"):
            # a slot: part of the instances' layout, which only the old class's own
            # descriptor can read; a slot added or removed cannot be patched in
            if type(old_value) is not type(new_value):
                return False
            continue
        if isinstance(new_value, property) and isinstance(old_value, property):
            if not _swap_property(old_value, new_value, kept):
                # looked up through the class on every access: the new one serves as well
                setattr(old_class, name, new_value)
            continue
        if isinstance(new_value, types.FunctionType | staticmethod | classmethod) and (
            old_value is not None
        ):
            if not _swap_function(old_value, new_value, kept):
                return False
            continue
        if isinstance(new_value, types.FunctionType | staticmethod | classmethod | property):
            setattr(old_class, name, new_value)
            continue
        if name.startswith("__"):
            continue
        with contextlib.suppress(AttributeError, TypeError):
            setattr(
                old_class, name, _same_or_new(vars(old_class).get(name, _ABSENT), new_value, kept)
            )
    return True


def _bound_names(statement: Any) -> set[str]:
    """The module-level names a top-level statement binds."""
    import ast

    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    found: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            found.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
    return found


def _read_names(statement: Any) -> set[str]:
    """The names a top-level statement reads when it runs (a function's body runs later)."""
    import ast

    parts: list[Any] = [statement]
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        parts = [*statement.decorator_list, *statement.args.defaults]
        parts += [d for d in statement.args.kw_defaults if d is not None]
    return {
        node.id
        for part in parts
        for node in ast.walk(part)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def _changed_names(tree: Any, old_source: str, new_source: str) -> set[str]:
    """Module-level names whose value may differ between two versions of a module (``tree``
    is the new one's): those bound by a top-level statement that overlaps the lines that
    differ, or that reads a changed name when it runs (in order, as the module runs)."""
    old_lines, new_lines = old_source.splitlines(), new_source.splitlines()
    same_start = 0
    for old, new in zip(old_lines, new_lines, strict=False):
        if old != new:
            break
        same_start += 1
    same_end = 0  # lines equal at the end, not overlapping the equal start
    limit = min(len(old_lines), len(new_lines)) - same_start
    while same_end < limit and old_lines[-1 - same_end] == new_lines[-1 - same_end]:
        same_end += 1
    first_changed, last_changed = same_start + 1, len(new_lines) - same_end  # 1-based lines
    changed: set[str] = set()
    for statement in tree.body:
        first = min(
            [statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))]
        )
        last = statement.end_lineno or statement.lineno
        overlaps = first <= max(last_changed, first_changed) and last >= first_changed - 1
        if overlaps or _read_names(statement) & changed:
            changed |= _bound_names(statement)
    return changed


def _unwrapped(value: Any) -> Any:
    """The plain function inside a wrapper object (``functools.lru_cache``, ``partial``, a
    currying class, a bound method), or None."""
    for _ in range(8):
        if isinstance(value, types.FunctionType):
            return value
        inner = None
        for attribute in ("__wrapped__", "__func__", "func"):
            inner = _stored_attribute(value, attribute)
            if inner is not None:
                break
        if inner is None:
            return None
        value = inner
    return None


def _stored_attribute(value: Any, attribute: str) -> Any:
    """An attribute kept on the object itself (its ``__dict__`` or a slot of its type), never
    one computed by user code nor a method of its class; None when there is none."""
    with contextlib.suppress(TypeError):
        stored = vars(value)
        if attribute in stored:
            return stored[attribute]
    for klass in type(value).__mro__:
        slot = klass.__dict__.get(attribute)
        if type(slot).__name__ in ("member_descriptor", "getset_descriptor"):
            with contextlib.suppress(Exception):
                return getattr(value, attribute)
    return None


def _swap_wrapped(old_value: Any, new_value: Any) -> bool:
    """Give a wrapper object the wrapped function's new code, keeping the wrapper (and every
    reference to it) in place; caches it kept are emptied."""
    old_type, new_type = type(old_value), type(new_value)
    if (old_type.__module__, old_type.__qualname__) != (new_type.__module__, new_type.__qualname__):
        return False  # (the same class made anew by the candidate's module counts as the same)
    old_function, new_function = _unwrapped(old_value), _unwrapped(new_value)
    if old_function is None or new_function is None:
        return False
    if not _swap_function(old_function, new_function):
        return False
    clear = getattr(old_value, "cache_clear", None)
    if callable(clear):
        with contextlib.suppress(Exception):
            clear()
    return True


def _apply_in_place(
    module: types.ModuleType,
    source: str,
    path: str,
    others: Any = (),
) -> str | None:
    """Make ``module`` behave as ``source`` while keeping its objects' identities.

    Functions and classes keep their identity and get the new code. A value whose defining
    statement did not change keeps its identity too (a sentinel, a registry, a compiled
    pattern), as other modules and default arguments hold it. A wrapper object around a
    changed function (``functools.lru_cache``, a currying class) keeps its identity and gets
    the function's new code. Any other changed value replaces the old one here and in the
    ``others`` modules that imported it under the same name (``from .core import name``), as
    a fresh import of the package would have it."""
    import ast

    tree = ast.parse(source, path)
    code = compile(tree, path, "exec", dont_inherit=True)
    namespace: dict[str, Any] = {
        "__name__": module.__name__,
        "__file__": path,
        "__package__": module.__package__,
        "__spec__": module.__spec__,
        "__builtins__": module.__dict__.get("__builtins__", __builtins__),
    }
    if hasattr(module, "__path__"):
        namespace["__path__"] = module.__path__
    old_source = None
    with contextlib.suppress(OSError, UnicodeDecodeError):
        old_source = Path(path).read_text(encoding="utf-8")
    changed = _changed_names(tree, old_source, source) if old_source is not None else None
    exec(code, namespace)
    old = module.__dict__
    # what unchanged statements made is the old object, wherever the new one turns up
    kept = {
        id(value): old[name]
        for name, value in namespace.items()
        if name in old and changed is not None and name not in changed
    }
    replaced: list[tuple[str, Any, Any]] = []
    for name, new_value in namespace.items():
        if name.startswith("__") and name.endswith("__"):
            continue
        old_value = old.get(name)
        if (
            isinstance(new_value, types.FunctionType)
            and getattr(new_value, "__module__", None) == module.__name__
        ):
            if old_value is None:
                old[name] = new_value
            elif not _swap_function(old_value, new_value, kept):
                return f"cannot swap function {name}"
        elif isinstance(new_value, type) and new_value.__module__ == module.__name__:
            if isinstance(old_value, type):
                if not _patch_class(old_value, new_value, kept):
                    return f"cannot patch class {name}"
            else:
                old[name] = new_value
        elif isinstance(new_value, types.ModuleType):
            old[name] = old_value if old_value is not None else new_value
        elif name in old and changed is not None and name not in changed:
            continue  # the same statement made it: the object every holder has stays
        elif name in old and _swap_wrapped(old_value, new_value):
            continue
        else:
            if name in old and old_value is not new_value:
                replaced.append((name, old_value, new_value))
            old[name] = new_value
    for name in list(old):
        if not (name.startswith("__") and name.endswith("__")) and name not in namespace:
            del old[name]
    for other in others:
        if other is module:
            continue
        values = other.__dict__
        for name, old_value, new_value in replaced:
            if name in values and values[name] is old_value:
                values[name] = new_value
    return None


def _modules_by_file(root: Path) -> dict[str, types.ModuleType]:
    """Loaded modules whose files live under ``root`` (the project), by resolved path."""
    by_file: dict[str, types.ModuleType] = {}
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if (
            filename
            and not filename.startswith(sys.prefix)
            and not filename.startswith(sys.base_prefix)
        ):
            with contextlib.suppress(OSError):
                resolved = Path(filename).resolve()
                if resolved.is_relative_to(root):
                    by_file[str(resolved)] = module
    return by_file


def _apply_candidate(edits: dict[str, str], by_file: dict[str, types.ModuleType]) -> str | None:
    pending: dict[str, str] = {}
    for path, source in edits.items():
        found = by_file.get(path)
        if found is None:
            pending[path] = source
            continue
        problem = _apply_in_place(found, source, path, by_file.values())
        if problem:
            return problem
    if pending:
        sys.meta_path.insert(0, _SourceOverride(pending))
    return None


class _Coverage:
    """Per-test line coverage in a worker's child, as pytest-cov's test contexts record it
    (lines run while a test runs, by node id), with two differences that make it mendbot's
    own measurement, whatever the project configured:

    * the project's coverage configuration (``.coveragerc``, ``setup.cfg``, ``tox.ini``,
      ``[tool.coverage]`` in ``pyproject.toml``: ``source``, ``omit``, ``relative_files``,
      plugins, dynamic contexts) is not read: mendbot measures the project folder, by
      absolute file name, with coverage.py's defaults;
    * what a module runs while it is being imported (its imports, decorators, class bodies,
      ``def`` lines and module-level statements, and whatever they call) is recorded apart,
      in the context ``<node id>|import`` of the test whose import loaded the module (or in
      no test's, during collection): it is what that test depends on, but not what it ran,
      and fault localization must not charge it to whichever test imported the module first.

    Written as JSON (node id -> file -> lines) to the file mendbot named; ``save`` says
    whether that worked, and mendbot measures coverage itself when it did not.
    """

    def __init__(self, out: str) -> None:
        self.out = out
        self.cov: Any = None
        self.problem = ""
        self.context = ""  # the running test's context
        self.importing = 0  # how deep in module imports the process is
        self._originals: dict[str, Any] = {}
        try:
            coverage = _coverage_module()
            self.cov = coverage.Coverage(
                data_file=None, source=[os.getcwd()], config_file=False, auto_data=False
            )
            self.cov.start()
        except Exception as error:
            self.problem = f"{type(error).__name__}: {error}"
            self.cov = None
        else:
            self._watch_imports()

    def _watch_imports(self) -> None:
        """Measure module imports apart: ``importlib._bootstrap`` loads every module (and
        reloads one) through these two functions, so wrapping them finds each import."""
        bootstrap = sys.modules.get("importlib._bootstrap")
        for name in ("_load_unlocked", "_exec"):
            original = getattr(bootstrap, name, None)
            if original is None:
                continue
            self._originals[name] = original
            setattr(bootstrap, name, self._importing(original))

    def _importing(self, original: Any) -> Any:
        def load(*args: Any) -> Any:
            self.importing += 1
            if self.importing == 1:  # import-time lines: the test's import phase
                self._switch(self.context.rsplit("|", 1)[0] + "|import" if self.context else "")
            try:
                return original(*args)
            finally:
                self.importing -= 1
                if self.importing == 0:
                    self._switch(self.context)

        return load

    def _unwatch_imports(self) -> None:
        bootstrap = sys.modules.get("importlib._bootstrap")
        for name, original in self._originals.items():
            setattr(bootstrap, name, original)
        self._originals.clear()

    def _switch(self, context: str) -> None:
        if self.cov is not None:
            try:
                self.cov.switch_context(context)
            except Exception:  # a core without dynamic contexts, say
                self.cov.stop()
                self.cov = None
                self.problem = "coverage.py cannot switch contexts here"

    def switch(self, nodeid: str) -> None:
        self.context = nodeid + "|run"  # as pytest-cov names it
        if not self.importing:
            self._switch(self.context)

    def save(self) -> bool:
        self._unwatch_imports()
        if self.cov is None:
            if self.problem:
                with contextlib.suppress(OSError):
                    Path(self.out + ".error").write_text(self.problem)
            return False
        try:
            self.cov.stop()
            data = self.cov.get_data()
            found: dict[str, dict[str, list[int]]] = {}
            for measured in data.measured_files():
                for line, contexts in data.contexts_by_lineno(measured).items():
                    for context in contexts:
                        if context:
                            found.setdefault(context, {}).setdefault(measured, []).append(line)
            Path(self.out).write_text(json.dumps(found))
            return True
        except Exception:
            return False


# node id -> the text of its first failed subtest, while a screening child runs it. pytest
# reports a failed subtest (unittest's ``subTest``, pytest's ``subtests`` fixture) on its own,
# beside the test's reports, and the test itself as passed until its status is shown; a test
# with a failed subtest has failed.
_FAILED_SUBTESTS: dict[str, str] = {}


def pytest_runtest_logreport(report: Any) -> None:
    if report.failed and report.when == "call" and hasattr(report, "context"):
        _FAILED_SUBTESTS.setdefault(report.nodeid, str(getattr(report, "longreprtext", "")))


def _brief_failure(excinfo: Any, style: Any = None) -> str:
    """A failure as a screening child reports it: the exception, in its own words."""
    try:
        return f"{excinfo.typename}: {excinfo.value}"
    except Exception:  # an exception whose text cannot be made
        return str(getattr(excinfo, "typename", "error"))


def _run_items(
    items: list[Any],
    targets: list[str],
    guards: list[str],
    limits: dict[str, float],
    run_all: bool = False,
    coverage_out: str = "",
    first: int = 0,
) -> dict[str, Any]:
    """``first``: a candidate that fixes none of the first this many targets is out without
    running the rest (mendbot orders the targets and judges the naive path the same way)."""
    from _pytest.runner import runtestprotocol

    by_id = {test_id(item): item for item in items}
    outcomes: dict[str, list[str]] = {}

    # The tests run as pytest runs them in one session: each is told which test comes next,
    # so fixtures of a wider scope (module, class, session) are set up once for the tests
    # that share them and torn down only when the next test does not. The last planned test
    # tears everything down, as the end of a session does.
    planned = [n for n in dict.fromkeys([*targets, *guards]) if n in by_id]
    following = dict(itertools.pairwise(planned))  # the last one has none

    def run_one(nodeid: str) -> str:
        item = by_id.get(nodeid)
        if item is None:
            outcomes[nodeid] = ["not_run", "not collected"]
            return "not_run"
        if not run_all:
            # a candidate's verdict needs each test's outcome, not its report: pytest's
            # formatted traceback (source, context and assertion diff of every frame) costs a
            # screening child about as much as the tests themselves. The exception's own text
            # stays (a timeout is known by it); xfail, skip and outcomes are decided as usual.
            item.repr_failure = _brief_failure
            item._repr_failure_py = _brief_failure
        # each test gets its own limit, calibrated from its baseline duration
        item.config.option.mendbot_test_timeout = float(limits.get(nodeid, 0.0))
        after = following.get(nodeid)
        _FAILED_SUBTESTS.pop(nodeid, None)
        reports = runtestprotocol(item, log=False, nextitem=by_id[after] if after else None)
        outcome, message = "passed", ""
        for report in reports:
            if report.failed:
                outcome = "failed" if report.when == "call" else "error"
                message = str(getattr(report, "longreprtext", ""))[-600:]
                if TIMEOUT_MARK in message:
                    outcome = "timeout"
                break
            if report.skipped and report.when in ("setup", "call"):
                outcome = "skipped"
        subtest = _FAILED_SUBTESTS.pop(nodeid, None)
        if subtest is not None and outcome in ("passed", "skipped"):
            outcome, message = "failed", subtest[-600:] or "a subtest failed"
        outcomes[nodeid] = [outcome, message]
        return outcome

    fixed: list[str] = []
    if run_all:  # a plain run of every test given, in that order (the flakiness re-run)
        tracer = _Coverage(coverage_out) if coverage_out else None
        for nodeid in targets:
            if tracer is not None:
                tracer.switch(nodeid)
            if run_one(nodeid) == "passed":
                fixed.append(nodeid)
        found: dict[str, Any] = {"fixed": fixed, "broken": [], "outcomes": outcomes}
        if tracer is not None:
            found["coverage"] = tracer.save()
        return found
    for position, target in enumerate(targets, 1):
        outcome = run_one(target)
        if outcome == "passed":
            fixed.append(target)
        elif outcome == "timeout":
            break  # a candidate that hangs is out; the other targets would only cost time
        if first and not fixed and position >= first:
            break  # hundreds of failing tests: out without running them all
    broken: list[str] = []
    if fixed:
        for nodeid in guards:
            if run_one(nodeid) not in ("passed", "skipped"):
                broken.append(nodeid)
                break
    return {"fixed": fixed, "broken": broken, "outcomes": outcomes}


def _import_anew(edits: dict[str, str], by_file: dict[str, types.ModuleType]) -> None:
    """Forget the project's modules, so that the test files collected next import them anew,
    the candidate's sources in place of the edited files'.

    The import that failed at base left behind the modules it had imported, with what they
    built while the import ran (a registry filled by the buggy code), and a package whose
    attributes for those submodules are never set again when it is imported a second time
    (`from .core import *` then `core.build()` ends in a NameError). A candidate judged on
    that state fails where a fresh process would pass. The tests collected before keep the
    modules they hold, with the candidate swapped in. Conftest files stay: pytest keeps them
    as plugins."""
    for name, module in list(sys.modules.items()):
        filename = str(getattr(module, "__file__", "") or "")
        if module in by_file.values() and Path(filename).name != "conftest.py":
            del sys.modules[name]
    sys.meta_path.insert(0, _SourceOverride(dict(edits)))


def _run_files(
    targets: list[str],
    guards: list[str],
    limits: dict[str, float],
    items: list[Any],
    file_limit: float,
    edits: dict[str, str],
    by_file: dict[str, types.ModuleType],
) -> dict[str, Any]:
    """Screen when some failing test files did not collect at base: the child imports the
    project anew (the candidate's code in place) and collects the files of every target and
    guard again, runs the targets' tests, and a file counts as fixed when one of its tests
    passes, as the naive path judges it. The failing tests of files that did collect run
    from the new collection too (the import that failed at base is what broke them), and so
    do the guards."""
    session = _WORKER.session
    root = Path(str(session.config.rootpath))
    # the guards' files too: a test collected before the project was imported anew would
    # run on the old modules while the code it calls may import the new ones
    files = list(dict.fromkeys(t.split("::", 1)[0] for t in [*targets, *guards]))
    _import_anew(edits, by_file)
    try:
        fresh = session.perform_collect([str(root / path) for path in files])
    except Exception as error:  # still does not collect: the candidate fixes nothing
        message = f"{type(error).__name__}: {error}"[:300]
        return {
            "fixed": [],
            "broken": [],
            "outcomes": {target: ["error", message] for target in targets},
        }
    collected = [test_id(item) for item in fresh]
    wanted = {
        target: [n for n in collected if n.startswith(target + "::")]
        if "::" not in target
        # a test that is not collected now is reported "not collected" by _run_items
        else [target]
        for target in targets
    }
    ids = list(dict.fromkeys(n for found in wanted.values() for n in found))
    limits = {**dict.fromkeys(ids, file_limit), **limits}
    found = _run_items([*items, *fresh], ids, guards, limits)  # the new collection wins
    passed = set(found["fixed"])
    return {**found, "fixed": [target for target, ns in wanted.items() if passed & set(ns)]}


def _child(
    candidate: dict[str, Any],
    items: list[Any],
    by_file: dict[str, types.ModuleType],
    write_fd: int,
    folder: str,
) -> None:
    gc.disable()  # a short-lived child: collecting would only copy the parent's pages
    try:
        # from here on, every change to the file system is journaled first (in ``folder``),
        # so that the worker can undo it: the candidate's module code runs when it is applied
        measured_into = os.path.dirname(str(candidate.get("coverage") or ""))
        mendbot_writes.arm(folder, (_WORKER.basetemp, measured_into))
        problem = _apply_candidate(candidate["edits"], by_file)
        files = [t for t in candidate["targets"] if "::" not in t]
        if problem:
            result: dict[str, Any] = {"unscreenable": problem}
        elif files:
            limits = dict(candidate.get("limits", {}))
            result = _run_files(
                candidate["targets"],
                candidate["guards"],
                limits,
                items,
                float(candidate.get("file_limit", 0.0)),
                candidate["edits"],
                by_file,
            )
        else:
            result = _run_items(
                items,
                candidate["targets"],
                candidate["guards"],
                candidate.get("limits", {}),
                bool(candidate.get("all")),
                str(candidate.get("coverage", "")),
                int(candidate.get("first", 0)),
            )
    except BaseException as error:
        result = {"crash": f"{type(error).__name__}: {error}"[:500]}
    payload = json.dumps(result).encode() + b"\n"  # the newline ends it: see _screen
    with contextlib.suppress(OSError):
        view = memoryview(payload)
        while view:
            written = os.write(write_fd, view)
            view = view[written:]
    os._exit(0)


def _prepare(session: Any) -> tuple[list[Any], dict[str, types.ModuleType]]:
    """What every candidate's child starts from: the collected items and loaded modules."""
    _WORKER.active = True
    _WORKER.session = session
    mendbot_writes.install()
    # pytest's temporary folders: made here, once, so that every child makes its numbered
    # folders inside the same one (atomically, by mkdir) and none cleans up another's
    with contextlib.suppress(Exception):
        factory = session.config._tmp_path_factory
        _WORKER.basetemp = str(factory.getbasetemp())
    with contextlib.suppress(ImportError):  # loaded once here, not in every measuring child
        _coverage_module()
    items = list(session.items)
    by_file = _modules_by_file(Path(str(session.config.rootpath)).resolve())
    # Objects that exist now are shared with every child; freezing them keeps the children's
    # garbage collector from touching (and so copying) the parent's memory.
    gc.collect()
    gc.freeze()
    return items, by_file


class _Zygote:
    """Forks the candidates' processes, so that their parent is not the worker.

    It is a fork of the worker made once per batch, and for each candidate it forks a child
    in a process group of its own and hands the read end of that child's result pipe back to
    the worker (``socket.send_fds``). Code under test that kills its parent kills the zygote,
    never the worker, which starts another and goes on; a timeout kills the child's group.
    One fork and one exit per candidate, where a per-candidate middle process cost two.
    The zygote reaps the children; the worker reads their results from the pipes.
    """

    def __init__(
        self,
        candidates: list[dict[str, Any]],
        items: list[Any],
        by_file: dict[str, types.ModuleType],
        root: str,
    ) -> None:
        self.candidates, self.items, self.by_file = candidates, items, by_file
        self.root = root  # the children's own folders (write journals) go in here
        self.sock: socket.socket | None = None
        self.pid = 0
        self._start()

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            ours.close()
            try:
                self._serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.sock, self.pid = ours, pid

    def _serve(self, sock: socket.socket) -> None:
        gc.disable()
        while True:
            ready = select.select([sock], [], [], 0.2)[0]
            _reap_children()
            if not ready:
                continue
            message = sock.recv(64)
            if not message:
                break
            index, attempt = (int(part) for part in message.split())
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                sock.close()
                os.close(read_fd)
                os.setpgid(0, 0)
                folder = self.folder(index, attempt)
                _child(self.candidates[index], self.items, self.by_file, write_fd, folder)
            os.close(write_fd)
            socket.send_fds(sock, [str(pid).encode()], [read_fd])
            os.close(read_fd)
        deadline = time.monotonic() + 1.0  # what the worker stopped is gone in a moment
        while _reap_children() and time.monotonic() < deadline:
            time.sleep(0.01)

    def folder(self, index: int, attempt: int) -> str:
        """The folder of the child running candidate ``index`` for the ``attempt``-th time."""
        return os.path.join(self.root, f"c{index}-{attempt}")

    def spawn(self, index: int, attempt: int) -> tuple[int, int]:
        """Start candidate ``index``: (its pid, the read end of its result pipe)."""
        for _ in range(3):
            try:
                assert self.sock is not None
                self.sock.send(f"{index} {attempt}".encode())
                message, fds, _, _ = socket.recv_fds(self.sock, 64, 1)
                if message and fds:
                    return int(message), fds[0]
            except OSError:
                pass
            self._restart()  # a candidate killed it (its parent), or it could not fork
        raise RuntimeError("cannot start a process for the candidate")

    def _restart(self) -> None:
        self.close()
        self._start()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.pid:
            deadline = time.monotonic() + 2.0
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.005)
            self.pid = 0


MAX_ATTEMPTS = 4  # runs of one candidate that other candidates' writes may spoil


def _reap_children() -> bool:
    """Reap every child that ended; whether any is still running."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def _screen(
    session: Any,
    batch_path: str,
    out_path: str,
    prepared: tuple[list[Any], dict[str, types.ModuleType]] | None = None,
) -> None:
    batch = json.loads(Path(batch_path).read_text())
    workers = max(1, int(batch.get("workers", 1)))
    stop_at_first = bool(batch.get("stop_at_first", True))
    candidates: list[dict[str, Any]] = batch["candidates"]
    items, by_file = prepared or _prepare(session)
    # read end of a child's result pipe -> (pid, candidate index, deadline, its folder, output)
    running: dict[int, tuple[int, int, float, str, bytearray]] = {}
    results: dict[int, dict[str, Any]] = {}
    queue = collections.deque(range(len(candidates)))  # what is still to run, in order
    attempts: dict[int, int] = {}
    out = open(out_path, "a", encoding="utf-8")  # noqa: SIM115 - closed below

    def is_complete(index: int, result: dict[str, Any]) -> bool:
        entry = candidates[index]
        complete = len(result.get("fixed", ())) == len(entry["targets"])
        whole = not entry.get("unreached")  # failing tests it cannot reach stay failing
        return bool(result.get("fixed")) and complete and whole and not result.get("broken")

    def record(index: int, result: dict[str, Any]) -> None:
        results[index] = result
        out.write(json.dumps({"index": index, **result}) + "\n")
        out.flush()

    # Stopping rule, in candidate order: at the `want`-th complete candidate, or once the
    # candidates after the first complete one have used up `extra` units, whichever comes
    # first. A candidate costs one unit, one that ran out of time `timeout_cost` units (a
    # hang is what makes gathering more expensive). The rule reads outcomes only, never the
    # clock, so the same candidates are gathered however fast they ran. The default stops at
    # the first complete candidate. Entries may carry the rule.
    want = max(1, int(candidates[0].get("want", 1))) if candidates else 1
    extra = max(0, int(candidates[0].get("extra", 0))) if candidates else 0
    timeout_cost = max(1, int(candidates[0].get("timeout_cost", 1))) if candidates else 1

    def limit() -> int | None:
        """The last candidate the rule needs, once the results in order decide it."""
        found = 0
        first = -1
        spent = 0
        for index in range(len(candidates)):
            if first >= 0 and spent >= extra:
                return index - 1
            if index not in results:
                return None
            result = results[index]
            if first >= 0:
                spent += timeout_cost if _ran_out_of_time(result) else 1
            if is_complete(index, result):
                found += 1
                first = index if first < 0 else first
                if found >= want:
                    return index
        return None

    def decided() -> bool:
        return stop_at_first and limit() is not None

    def reap(fd: int, reason: str | None = None, kind: str = "", *, keep: bool = True) -> bool:
        """End the child reading into ``fd``, put back what it changed on disk and record its
        result (unless ``keep`` is false). Returns whether it changed anything."""
        pid, index, _, folder, buffer = running.pop(fd)
        if reason is not None or not keep:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):  # what it wrote (the pipe does not block)
            while chunk := os.read(fd, 65536):
                buffer.extend(chunk)
        os.close(fd)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # processes it left behind in its group
        changed, unknown = mendbot_writes.restore(folder)
        shutil.rmtree(folder, ignore_errors=True)
        if not keep:
            return changed
        if reason is not None:
            result: dict[str, Any] = {kind or "timeout": reason}
        else:
            try:
                result = json.loads(bytes(buffer).decode())
            except ValueError:
                result = {"crash": "the test process died before reporting (a crash or an exit)"}
        if unknown and candidates[index].get("edits") and "cancelled" not in result:
            # its writes could not all be undone, or it ran other programs (which run the
            # code on disk, not the candidate): only a fresh pytest run can judge it
            result = {"unscreenable": f"the candidate's tests {unknown}"}
        record(index, result)
        return changed

    def retry(fd: int) -> None:
        """Stop the child reading into ``fd`` and run its candidate again later."""
        index = running[fd][1]
        reap(fd, keep=False)
        if attempts.get(index, 0) >= MAX_ATTEMPTS:
            record(index, {"unscreenable": "other candidates' files kept changing under it"})
        else:
            queue.appendleft(index)

    def wrote(fd: int) -> bool:
        journal = mendbot_writes.journal_path(running[fd][3])
        with contextlib.suppress(OSError):
            return os.path.getsize(journal) > 0
        return False

    def finished(fd: int, reason: str | None = None) -> None:
        """A child ended (or ran out of time). What it changed is put back, and no other
        candidate's verdict may depend on it: the ones that ran beside a child that changed
        files run again, one at a time from then on."""
        nonlocal workers
        others = [other for other in running if other != fd]
        if any(wrote(other) for other in others):
            retry(fd)  # it ran beside one that changed files: its result may depend on them
            workers = 1  # and nothing starts beside that one any more
            return
        if reap(fd, reason) and others:
            for other in sorted(others, key=lambda item: -running[item][1]):
                retry(other)
            workers = 1

    root = str(Path(out_path).with_suffix("")) + ".children"
    os.makedirs(root, exist_ok=True)
    zygote = _Zygote(candidates, items, by_file, root)
    try:
        while (queue or running) and not decided():
            while queue and len(running) < workers and not decided():
                index = queue.popleft()
                attempts[index] = attempts.get(index, 0) + 1
                pid, read_fd = zygote.spawn(index, attempts[index])
                os.set_blocking(read_fd, False)
                deadline = time.monotonic() + float(candidates[index].get("timeout", 10.0))
                folder = zygote.folder(index, attempts[index])
                running[read_fd] = (pid, index, deadline, folder, bytearray())
            if not running:
                break
            wait_for = max(0.0, min(entry[2] for entry in running.values()) - time.monotonic())
            readable, _, _ = select.select(list(running), [], [], min(wait_for, 1.0))
            for fd in readable:
                if fd not in running:
                    continue  # stopped meanwhile, to run again
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if chunk:
                    running[fd][4].extend(chunk)
                    if not chunk.endswith(b"\n"):
                        continue
                # the whole result is in (a child's result ends with its only newline): the
                # child has nothing left to do but exit, so it is not waited for
                finished(fd)
            now = time.monotonic()
            for fd in [fd for fd, entry in running.items() if now >= entry[2]]:
                if fd in running:
                    finished(fd, "the candidate ran past its time limit")
    finally:
        for fd in list(running):
            reap(fd, "not needed: an earlier candidate won", "cancelled")
        zygote.close()
        if decided():  # tells the caller that missing results were not needed
            record(-1, {"decided": True})
        if stop_at_first and want > 1:
            last = limit()  # None: the batch ran out before the rule decided, all count
            last = len(candidates) - 1 if last is None else last
            needed = {i: r for i, r in results.items() if 0 <= i <= last}
            report = _probe_complete(
                candidates, needed, items, is_complete, want, os.path.join(root, "probe")
            )
            if report is not None:
                record(-2, {"probe": report})
        out.close()
        shutil.rmtree(root, ignore_errors=True)


def _ran_out_of_time(result: dict[str, Any]) -> bool:
    """Whether a candidate's child, or one of its tests, ran out of time."""
    outcomes = result.get("outcomes")
    return "timeout" in result or (
        isinstance(outcomes, dict)
        and any(isinstance(o, list) and o[:1] == ["timeout"] for o in outcomes.values())
    )


def _probe_complete(
    candidates: list[dict[str, Any]],
    results: dict[int, dict[str, Any]],
    items: list[Any],
    is_complete: Any,
    want: int,
    folder: str,
) -> dict[str, Any] | None:
    """Compare the complete candidates' behaviour with the original (``mendbot_probe``).

    Runs only when there are several to choose between and their entries carry a ``probe``
    plan (the changed functions and the passing tests that call them). A forked child runs
    those tests on the original code while recording the functions' calls, then calls the
    original and every candidate's version on them. Returns the report, keyed by target,
    with each candidate's batch position as its variant key. What the child changes on disk
    is journaled in ``folder`` and put back when it ends, as for a candidate's child.
    """
    chosen = [i for i in sorted(results) if i >= 0 and is_complete(i, results[i])][:want]
    plans: list[dict[str, Any]] = [candidates[i].get("probe") or {} for i in chosen]
    if len(chosen) < 2 or not all(plans):
        return None
    try:
        import mendbot_probe  # type: ignore[import-not-found]  # copied next to this file
    except ImportError:
        return None
    settings: dict[str, Any] = dict(candidates[0].get("probe_settings", {}))
    targets: dict[str, dict[str, Any]] = {}
    tests: list[str] = []
    for index, plan in zip(chosen, plans, strict=True):
        for target in plan["targets"]:
            entry = targets.get(target["key"])
            if entry is None:
                try:
                    original = Path(target["file"]).read_text(encoding="utf-8")
                except OSError:
                    continue
                entry = targets[target["key"]] = {**target, "original": original, "variants": {}}
            entry["variants"][str(index)] = candidates[index]["edits"].get(target["file"], "")
        tests.extend(t for t in plan["tests"] if t not in tests)
    if not targets or not tests:
        return None
    budget = float(settings.get("budget", 2.0))
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.setpgid(0, 0)
        report: dict[str, Any] = {}
        try:
            mendbot_writes.arm(folder, (_WORKER.basetemp,))
            from _pytest.runner import runtestprotocol

            recorder = mendbot_probe.Recorder(
                list(targets.values()), int(settings.get("max_calls", 12))
            )
            by_id = {test_id(item): item for item in items}
            for nodeid in tests:
                item = by_id.get(nodeid)
                if item is None:
                    continue
                sys.setprofile(recorder.profile)
                try:
                    runtestprotocol(item, log=False, nextitem=None)
                finally:
                    sys.setprofile(None)
            deadline = time.monotonic() + budget
            for key, target in targets.items():
                report[key] = mendbot_probe.evaluate(
                    target, recorder.calls.get(key, []), settings, deadline
                )
        except BaseException as error:
            report = {"error": f"{type(error).__name__}: {error}"[:300]}
        with contextlib.suppress(OSError), os.fdopen(write_fd, "wb") as pipe:
            pipe.write(json.dumps(report).encode())
        os._exit(0)
    os.close(write_fd)
    received = bytearray()
    stop_at = time.monotonic() + budget + 10.0 * len(tests) + 5.0
    finished = False
    while not finished and time.monotonic() < stop_at:
        ready = select.select([read_fd], [], [], max(0.0, stop_at - time.monotonic()))[0]
        if not ready:
            break
        chunk = os.read(read_fd, 65536)
        received.extend(chunk)
        finished = not chunk
    os.close(read_fd)
    if not finished:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # what it left running, before its changes are undone
    mendbot_writes.restore(folder)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        loaded = json.loads(bytes(received).decode())
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


class _RunCoverage:
    """``--mendbot-coverage=FILE``: per-test coverage of an ordinary run, measured while the
    tests run (from the first test on, not during collection: import-time lines belong to
    no test anyway), so a measured run costs little more than a plain one."""

    tracer: _Coverage | None = None


_RUN_COVERAGE = _RunCoverage()


@pytest.hookimpl(hookwrapper=True, specname="pytest_runtestloop")
def pytest_runtestloop_measured(session: Any) -> Any:
    out = session.config.getoption("--mendbot-coverage")
    worker = getattr(session.config, "workerinput", None)  # a pytest-xdist worker
    if out and worker is not None:
        out = f"{out}.{worker.get('workerid', os.getpid())}"
    controller = session.config.pluginmanager.hasplugin("dsession")  # xdist's, runs none
    if out and not controller:
        _RUN_COVERAGE.tracer = _Coverage(out)
    try:
        yield
    finally:
        tracer, _RUN_COVERAGE.tracer = _RUN_COVERAGE.tracer, None
        if tracer is not None:
            tracer.save()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> None:
    if _RUN_COVERAGE.tracer is not None:
        _RUN_COVERAGE.tracer.switch(test_id(item))


IDLE_LIMIT = 3600.0  # a persistent worker nobody talks to for this long exits


def _serve(session: Any, folder: Path) -> None:
    """The persistent screening worker: collect once, then screen batch after batch.

    mendbot writes ``batch-N.json`` into ``folder`` and the line ``N`` on the worker's
    standard input; the worker screens it from the same collected state as every batch
    before (each candidate in a child of its own), writes ``out-N.jsonl`` and then the
    marker ``done-N``. End of input (mendbot closed the pipe, or died) ends the worker.
    """
    # pytest's global capture points fd 0 at /dev/null; give the worker its real input back
    # (each test still runs under capture: the children resume it for themselves)
    capture = session.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    prepared = _prepare(session)
    ready = folder / "ready.tmp"
    ready.write_text(json.dumps({"pid": os.getpid(), "items": len(prepared[0])}))
    ready.rename(folder / "ready")
    pending = b""
    while True:
        if not select.select([0], [], [], IDLE_LIMIT)[0]:
            return
        chunk = os.read(0, 4096)
        if not chunk:
            return
        pending += chunk
        *lines, rest = pending.split(b"\n")
        pending = rest
        for line in lines:
            number = line.strip().decode()
            if not number.isdigit():
                continue
            out = folder / f"out-{number}.jsonl"
            try:
                _screen(session, str(folder / f"batch-{number}.json"), str(out), prepared)
            except Exception:  # a broken batch must say why, not vanish
                Path(str(out) + ".error").write_text(traceback.format_exc())
            done = folder / f"done-{number}.tmp"
            done.touch()
            done.rename(folder / f"done-{number}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: Any) -> Any:
    serve = session.config.getoption("--mendbot-serve")
    if serve:
        _serve(session, Path(serve))
        return True
    batch = session.config.getoption("--mendbot-screen")
    if not batch:
        return None
    out = session.config.getoption("--mendbot-out")
    try:
        _screen(session, batch, out)
    except Exception:  # a broken batch must say why, not vanish
        Path(out + ".error").write_text(traceback.format_exc())
    return True
