"""mendbot's behaviour probe: a pytest plugin that runs inside the test process.

mendbot copies this file next to a run as ``mendbot_probe`` and loads it with
``-p mendbot_probe --mendbot-probe=SPEC.json``. Like ``mendbot_pytest`` it imports only the
standard library and pytest, because it also runs in containers where only pytest is
installed, and it never imports mendbot.

While the selected tests run, it records the arguments of every call to the target functions
(deep copies, taken when the call starts). After the tests, for every target, it loads the
``original`` module text and each variant's text into fresh module namespaces and calls the
original and each variant on the recorded arguments and on variations of them: each argument
nudged in turn (numbers by one, strings and lists shortened or extended, and so on). The
variations are deterministic, so a ranking is the same every time it runs. With
``same_path``, a variation is kept only when the original takes the same lines on it as on
the recorded call it came from: inputs on which the original most likely was already right.

It writes, per target and variant, how many inputs gave a different result (return value or
exception type and message, and the arguments' state after the call) and one example.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import enum
import json
import math
import os
import select
import signal
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

MAX_DEPTH = 6
MAX_ITEMS = 200


class CallTimeout(BaseException):
    """Raised in a probed call that ran past its time limit."""


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("mendbot")
    group.addoption("--mendbot-probe", default=None)
    group.addoption("--mendbot-probe-out", default=None)


class Recorder:
    """Records deep copies of the arguments of calls to the target functions."""

    def __init__(self, targets: list[dict[str, Any]], limit: int) -> None:
        self.limit = limit
        self.wanted: dict[tuple[str, str], str] = {}
        for target in targets:
            self.wanted[(str(Path(target["file"]).resolve()), target["qualname"])] = target["key"]
        self.files = {file for file, _ in self.wanted}
        self.calls: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {
            key: [] for key in self.wanted.values()
        }
        self.seen: dict[str, set[str]] = {key: set() for key in self.wanted.values()}
        self._resolved: dict[str, str] = {}

    def _resolve(self, filename: str) -> str:
        found = self._resolved.get(filename)
        if found is None:
            try:
                found = str(Path(filename).resolve())
            except OSError:
                found = filename
            self._resolved[filename] = found
        return found

    def profile(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        file = self._resolve(code.co_filename)
        if file not in self.files:
            return
        key = self.wanted.get((file, code.co_qualname))
        if key is None or len(self.calls[key]) >= self.limit:
            return
        try:
            call = arguments_of(frame)
            text = _show(call)
            if text in self.seen[key]:
                return
            self.seen[key].add(text)
            self.calls[key].append(copy.deepcopy(call))
        except Exception:  # an argument that cannot be copied: that call is not recorded
            return


def arguments_of(frame: types.FrameType) -> tuple[tuple[Any, ...], dict[str, Any]]:
    code = frame.f_code
    names = code.co_varnames
    values = frame.f_locals
    positional = code.co_argcount
    keyword_only = code.co_kwonlyargcount
    args = [values[name] for name in names[:positional]]
    kwargs = {name: values[name] for name in names[positional : positional + keyword_only]}
    index = positional + keyword_only
    if code.co_flags & 0x04:  # *args
        args.extend(values.get(names[index], ()))
        index += 1
    if code.co_flags & 0x08:  # **kwargs
        kwargs.update(values.get(names[index], {}))
    return tuple(args), kwargs


# ------------------------------------------------------------------ comparing results


def normal(value: Any, depth: int = 0) -> Any:
    """A structure that compares equal across module copies (class identity left out)."""
    if depth > MAX_DEPTH:
        return "..."
    if value is None or isinstance(value, bool | int | str | bytes):
        return value
    if isinstance(value, float):
        return "nan" if math.isnan(value) else value
    if isinstance(value, list | tuple):
        return (type(value).__name__, [normal(v, depth + 1) for v in list(value)[:MAX_ITEMS]])
    if isinstance(value, set | frozenset):
        members = sorted(repr(normal(v, depth + 1)) for v in value)[:MAX_ITEMS]
        return ("set", members)
    if isinstance(value, dict):
        items = [
            (repr(normal(k, depth + 1)), normal(v, depth + 1))
            for k, v in list(value.items())[:MAX_ITEMS]
        ]
        return ("dict", items)
    if isinstance(value, BaseException):
        return ("exception", type(value).__name__, str(value)[:200])
    if isinstance(value, enum.Enum):
        return ("enum", type(value).__qualname__, value.name)
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        return ("object", type(value).__qualname__, normal(attributes, depth + 1))
    slots = getattr(type(value), "__slots__", None)
    if isinstance(slots, tuple | list):
        return (
            "object",
            type(value).__qualname__,
            [(s, normal(getattr(value, s, None), depth + 1)) for s in slots],
        )
    text = repr(value)
    return ("repr", type(value).__qualname__, text if " at 0x" not in text else "")


def _show(call: tuple[tuple[Any, ...], dict[str, Any]]) -> str:
    args, kwargs = call
    parts = [repr(a)[:80] for a in args] + [f"{k}={v!r}"[:80] for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def _on_alarm(signum: int, frame: Any) -> None:
    raise CallTimeout("the call ran past its time limit")


def invoke(
    function: Callable[..., Any],
    call: tuple[tuple[Any, ...], dict[str, Any]],
    limit: float,
    tracer: Callable[[types.FrameType, str, Any], Any] | None = None,
) -> Any:
    """The normalized outcome of calling ``function`` on a fresh copy of ``call``."""
    args, kwargs = copy.deepcopy(call)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    if tracer is not None:
        sys.settrace(tracer)
    try:
        result: Any = function(*args, **kwargs)
        if isinstance(result, types.GeneratorType):
            result = list(_take(result))
        outcome: Any = ("returned", normal(result))
    except CallTimeout:
        outcome = ("timeout",)
    except Exception as error:
        outcome = ("raised", type(error).__name__, str(error)[:200])
    finally:
        if tracer is not None:
            sys.settrace(None)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return (outcome, normal(args), normal(kwargs))


def _take(generator: Iterator[Any]) -> Iterator[Any]:
    for index, item in enumerate(generator):
        if index >= MAX_ITEMS:
            return
        yield item


# ------------------------------------------------------------------ variations of an input


def variants_of(value: Any) -> list[Any]:
    """Nearby values of the same type, most telling first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        found = [value + 1, value - 1, 0, -value, value + 10]
        if abs(value) < 10**6:
            found.append(value * 2)
        return found
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return [0.0, 1.0]
        return [value + 1.0, value - 1.0, 0.0, -value, value * 2, value / 2, value + 0.5]
    if isinstance(value, str):
        return [value + "a", value[:-1], "", value.upper(), value[::-1], " " + value]
    if isinstance(value, list | tuple):
        kind = type(value)
        items = list(value)
        shapes: list[list[Any]] = [[], items[:-1], list(reversed(items))]
        if items:
            shapes.append([*items, items[-1]])
            for first in variants_of(items[0])[:2]:
                shapes.append([first, *items[1:]])
        if kind is tuple:
            return [tuple(f) for f in shapes]
        if kind is list:
            return list(shapes)
        return []
    if isinstance(value, dict):
        keys = list(value)
        found_dicts: list[dict[Any, Any]] = [{}]
        if keys:
            found_dicts.append({k: value[k] for k in keys[:-1]})
            for changed in variants_of(value[keys[0]])[:2]:
                found_dicts.append({**value, keys[0]: changed})
        return found_dicts
    return []


def variations(
    call: tuple[tuple[Any, ...], dict[str, Any]], count: int
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Up to ``count`` calls that differ from ``call`` in one argument, spread over arguments."""
    args, kwargs = call
    per_argument: list[list[tuple[tuple[Any, ...], dict[str, Any]]]] = []
    for index, value in enumerate(args):
        if index == 0 and type(value).__name__ not in _PLAIN and hasattr(value, "__dict__"):
            continue  # `self`: an object, not an input to vary
        per_argument.append(
            [
                ((*args[:index], changed, *args[index + 1 :]), kwargs)
                for changed in variants_of(value)
            ]
        )
    for name, value in kwargs.items():
        per_argument.append([(args, {**kwargs, name: changed}) for changed in variants_of(value)])
    found: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    seen = {_show(call)}
    depth = 0
    while len(found) < count and any(depth < len(options) for options in per_argument):
        for options in per_argument:
            if depth < len(options) and len(found) < count:
                text = _show(options[depth])
                if text not in seen:
                    seen.add(text)
                    found.append(options[depth])
        depth += 1
    return found


_PLAIN = {"int", "float", "str", "bytes", "bool", "list", "tuple", "dict", "set", "NoneType"}


# ------------------------------------------------------------------ loading module versions


def load_function(
    text: str, file: str, qualname: str, live: types.ModuleType | None
) -> Callable[..., Any] | None:
    """Execute a module text in a fresh namespace and return the function ``qualname``."""
    name = live.__name__ if live is not None else Path(file).stem
    namespace: dict[str, Any] = {
        "__name__": name,
        "__file__": file,
        "__builtins__": __builtins__,
    }
    if live is not None:
        for attribute in ("__package__", "__spec__", "__path__", "__loader__"):
            if hasattr(live, attribute):
                namespace[attribute] = getattr(live, attribute)
    try:
        exec(compile(text, file, "exec", dont_inherit=True), namespace)
    except BaseException:
        return None
    found: Any = namespace
    for part in qualname.split("."):
        if part == "<locals>":
            return None
        found = found.get(part) if isinstance(found, dict) else vars(found).get(part)
        if found is None:
            return None
    found = getattr(found, "__func__", found)
    if isinstance(found, property):
        found = found.fget
    return found if callable(found) else None


def _live_module(file: str) -> types.ModuleType | None:
    wanted = str(Path(file).resolve())
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename:
            continue
        with contextlib.suppress(OSError):
            if str(Path(filename).resolve()) == wanted:
                return module
    return None


def _line_tracer(code: types.CodeType, lines: set[int]) -> Callable[..., Any]:
    def local(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            lines.add(frame.f_lineno)
        return local

    def global_trace(frame: types.FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code is code else None

    return global_trace


def run_version(
    function: Callable[..., Any] | None,
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]],
    limit: float,
    trace_code: types.CodeType | None,
    deadline: float,
) -> list[tuple[str, tuple[int, ...]]]:
    """(outcome, lines the function ran) for each call, as far as the deadline allows.

    The calls run in a forked child, in order, so every version starts from the same process
    state: arguments that carry state a deep copy cannot separate (closures, open files) then
    evolve the same way under every version that behaves the same.
    """
    if function is None:
        return [("unloadable", ())] * len(calls)
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: run the calls, report one line each, never return to pytest
        os.close(read_fd)
        try:
            with os.fdopen(write_fd, "w", encoding="utf-8") as out:
                for call in calls:
                    lines: set[int] = set()
                    tracer = _line_tracer(trace_code, lines) if trace_code is not None else None
                    outcome = invoke(function, call, limit, tracer)
                    out.write(json.dumps([repr(outcome), sorted(lines)]) + "\n")
                    out.flush()
        finally:
            os._exit(0)
    os.close(write_fd)
    received = bytearray()
    finished = False
    while not finished:
        remaining = deadline - time.monotonic()
        ready = select.select([read_fd], [], [], max(0.0, remaining))[0] if remaining > 0 else []
        if not ready:
            break
        chunk = os.read(read_fd, 65536)
        received.extend(chunk)
        finished = not chunk
    os.close(read_fd)
    if not finished:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    results: list[tuple[str, tuple[int, ...]]] = []
    for line in bytes(received).decode("utf-8", errors="replace").splitlines():
        try:
            outcome, lines_run = json.loads(line)
        except ValueError:
            break
        results.append((str(outcome), tuple(int(n) for n in lines_run)))
    return results


def evaluate(
    target: dict[str, Any],
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]],
    settings: dict[str, Any],
    deadline: float,
) -> dict[str, Any]:
    file, qualname = target["file"], target["qualname"]
    live = _live_module(file)
    original = load_function(target["original"], file, qualname, live)
    if original is None:
        return {"error": f"cannot load {qualname} from the original text", "recorded": len(calls)}
    variants: dict[str, Callable[..., Any] | None] = {
        key: load_function(text, file, qualname, live) for key, text in target["variants"].items()
    }
    limit = float(settings.get("call_timeout", 0.25))
    same_path = bool(settings.get("same_path", True))
    per_seed = int(settings.get("variations", 6))
    code = getattr(original, "__code__", None) if same_path else None
    inputs: list[tuple[str, tuple[tuple[Any, ...], dict[str, Any]], int]] = []
    for index, call in enumerate(calls):
        inputs.append(("recorded", call, index))
    for index, call in enumerate(calls):
        inputs.extend(("variation", varied, index) for varied in variations(call, per_seed))
    arguments = [call for _, call, _ in inputs]
    versions = 1 + len(variants)
    expected = run_version(
        original,
        arguments,
        limit,
        code,
        time.monotonic() + (deadline - time.monotonic()) / versions,
    )
    got: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
    for position, (key, variant) in enumerate(variants.items()):
        share = (deadline - time.monotonic()) / max(1, versions - 1 - position)
        got[key] = run_version(variant, arguments, limit, None, time.monotonic() + share)
    counts = {"recorded": 0, "variation": 0}
    differences = {key: {"recorded": 0, "variation": 0} for key in variants}
    examples: dict[str, str] = {}
    for index, (kind, call, seed) in enumerate(inputs):
        if index >= len(expected):
            break
        outcome, lines = expected[index]
        if (
            same_path
            and kind == "variation"
            and (seed >= len(expected) or expected[seed][1] != lines)
        ):
            continue  # the original went another way: not known to be right here
        if any(index >= len(results) for results in got.values()):
            break
        counts[kind] += 1
        for key, results in got.items():
            if results[index][0] != outcome:
                differences[key][kind] += 1
                examples.setdefault(
                    key, f"{qualname}{_show(call)}: {_brief(outcome, results[index][0])}"
                )
    return {
        "recorded": counts["recorded"],
        "variations": counts["variation"],
        "differences": differences,
        "examples": examples,
        "unloadable": [key for key, variant in variants.items() if variant is None],
    }


def _brief(expected: str, got: str) -> str:
    """How two outcome texts differ: the results, or the arguments' state after the call."""
    try:
        before, after = ast.literal_eval(expected), ast.literal_eval(got)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return f"{expected[:80]} -> {got[:80]}"
    if not (isinstance(before, tuple) and isinstance(after, tuple) and before and after):
        return f"{expected[:80]} -> {got[:80]}"
    if repr(before[0]) == repr(after[0]):
        return f"returns {repr(before[0])[:80]} both times; the arguments end up different"
    return f"{repr(before[0])[:80]} -> {repr(after[0])[:80]}"


# ------------------------------------------------------------------ pytest hooks

_state: dict[str, Any] = {}


def pytest_configure(config: Any) -> None:
    spec_path = config.getoption("--mendbot-probe")
    if not spec_path:
        return
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    _state["spec"] = spec
    _state["out"] = config.getoption("--mendbot-probe-out")
    _state["recorder"] = Recorder(spec["targets"], int(spec.get("max_calls", 12)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Any:
    recorder = _state.get("recorder")
    if recorder is None:
        yield
        return
    previous = sys.getprofile()
    sys.setprofile(recorder.profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    spec = _state.get("spec")
    if spec is None:
        return
    recorder: Recorder = _state["recorder"]
    deadline = time.monotonic() + float(spec.get("budget", 3.0))
    report: dict[str, Any] = {}
    for target in spec["targets"]:
        key = target["key"]
        try:
            report[key] = evaluate(target, recorder.calls.get(key, []), spec, deadline)
        except Exception as error:  # one target that cannot be probed does not hide the rest
            report[key] = {"error": f"{type(error).__name__}: {error}"[:300]}
    Path(_state["out"]).write_text(json.dumps(report), encoding="utf-8")
