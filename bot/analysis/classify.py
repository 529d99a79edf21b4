"""Turn failed test results into Failures with a failure class (see DESIGN's table)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.analysis.source import loop_around
from bot.edits import is_test_path as is_test_path  # one rule for what a test file is
from bot.models import (
    CollectionError,
    Failure,
    FailureClass,
    Frame,
    Outcome,
    TestResult,
    TestRun,
)
from bot.testing.junit import frames_from_traceback

RUNTIME_SAFETY_TYPES = {
    "AttributeError",
    "IndexError",
    "KeyError",
    "ZeroDivisionError",
    "RecursionError",
    "UnboundLocalError",
    "StopIteration",
}
FORMAT_TYPES = {"SyntaxError", "IndentationError", "TabError", "ImportError", "ModuleNotFoundError"}
CONTRACT_HINTS = ("DID NOT RAISE", "Regex pattern did not match", "pytest.raises")
_FILE_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_PYTEST_LOCATION = re.compile(r"^(?P<file>[\w./-]+\.py):(?P<line>\d+): ", re.M)
_EXCEPTION_LINE = re.compile(
    r"^E\s+(?P<type>[A-Za-z_][\w.]*(Error|Exception|Warning|Exit))\b", re.M
)


def _frames_in_text(text: str, project_files: Mapping[str, str]) -> list[Frame]:
    frames: list[Frame] = []
    for match in _FILE_LINE.finditer(text):
        path = match.group("file")
        relative = _relative(path, project_files)
        if relative:
            frames.append(Frame(relative, int(match.group("line")), ""))
    for match in _PYTEST_LOCATION.finditer(text):
        relative = _relative(match.group("file"), project_files)
        if relative:
            frames.append(Frame(relative, int(match.group("line")), ""))
    return frames


def _relative(path: str, project_files: Mapping[str, str]) -> str | None:
    path = path.replace("\\", "/")
    if path in project_files:
        return path
    for known in project_files:
        if path.endswith("/" + known):
            return known
    return None


def classify_result(result: TestResult, test_source: str = "") -> FailureClass:
    exception = result.exception_type or _exception_from_text(result.traceback)
    text = result.traceback + "\n" + result.message
    if exception in FORMAT_TYPES:
        return FailureClass.FORMAT
    if any(hint in text for hint in CONTRACT_HINTS):
        return FailureClass.CONTRACT
    if exception == "TypeError" and "NoneType" in text:
        return FailureClass.RUNTIME_SAFETY
    if exception == "AttributeError" and "NoneType" not in text:
        return FailureClass.CONTRACT  # a wrong name, not an unsafe access
    if exception in RUNTIME_SAFETY_TYPES:
        return FailureClass.RUNTIME_SAFETY
    if exception in ("AssertionError", "Timeout", ""):
        return FailureClass.LOGIC
    # any other exception escaping the code: a contract between caller and callee is broken
    return FailureClass.CONTRACT


def _exception_from_text(text: str) -> str:
    match = _EXCEPTION_LINE.search(text)
    return match.group("type").rsplit(".", 1)[-1] if match else ""


def failure_from_result(result: TestResult, project_files: Mapping[str, str]) -> Failure:
    structured = frames_from_traceback(result.traceback)
    frames = [
        Frame(path, line, function) for path, line, function in structured if path in project_files
    ]
    if not frames:
        frames = _frames_in_text(result.traceback, project_files)
    if result.outcome is Outcome.TIMEOUT:
        frames = _hang_frames(frames, project_files)
    test_file = result.nodeid.split("::", 1)[0]
    failure_class = classify_result(result, project_files.get(test_file, ""))
    traceback = result.traceback.split("\n[mendbot-frames]", 1)[0]
    return Failure(
        nodeid=result.nodeid,
        failure_class=failure_class,
        exception_type=result.exception_type or _exception_from_text(traceback) or "Error",
        message=result.message,
        frames=tuple(frames),
        traceback=traceback,
    )


def _hang_frames(frames: list[Frame], project_files: Mapping[str, str]) -> list[Frame]:
    """A hang's frames, ending at the first line of the loop that does not end.

    The time limit interrupts a hanging test wherever it happens to be: on any line of the
    loop, or in anything the loop calls. The innermost frame inside a loop is where it hangs;
    pointing it at the loop's first line, and leaving out what the loop called, makes a hang
    localized, and so repaired, the same way every time.
    """
    for position in range(len(frames) - 1, -1, -1):
        frame = frames[position]
        header = loop_around(project_files.get(frame.file, ""), frame.line)
        if header is not None:
            return [*frames[:position], Frame(frame.file, header, frame.function)]
    return frames


def failure_from_collection(error: CollectionError, project_files: Mapping[str, str]) -> Failure:
    text = error.traceback + "\n" + error.message
    exception = _exception_from_text(text) or (
        "SyntaxError" if "SyntaxError" in text else "ImportError" if "Import" in text else "Error"
    )
    frames = _frames_in_text(text, project_files)
    # a module that cannot be collected cannot be parsed or imported: FORMAT by definition
    failure_class = FailureClass.FORMAT
    return Failure(
        nodeid=error.path,
        failure_class=failure_class,
        exception_type=exception,
        message=_last_error_line(text) or error.message,
        frames=tuple(frames),
        traceback=error.traceback,
    )


def _last_error_line(text: str) -> str:
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return lines[-1] if lines else ""


def failures_of(run: TestRun, project_files: Mapping[str, str]) -> tuple[Failure, ...]:
    failures = [failure_from_collection(e, project_files) for e in run.collection_errors]
    by_id = run.by_id()
    failures += [failure_from_result(by_id[n], project_files) for n in run.failing]
    return tuple(failures)
