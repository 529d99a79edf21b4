"""Read pytest's JUnit XML into TestResults keyed by node id."""

from __future__ import annotations

import json
import re
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase
from junitparser.junitparser import JUnitXmlError

from bot.models import CollectionError, Outcome, TestResult

TIMEOUT_MARK = "mendbot-timeout"
MAX_TRACEBACK = 6000


def _properties(case: TestCase) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in case._elem.iter("property"):
        name, value = element.get("name"), element.get("value")
        if name and value is not None:
            found[name] = value
    return found


def _fallback_nodeid(case: TestCase) -> str:
    classname = case.classname or ""
    parts = classname.split(".")
    # "tests.test_x.TestThing" -> "tests/test_x.py::TestThing"; the plugin normally names it
    for cut in range(len(parts), 0, -1):
        if parts[cut - 1].startswith("test") or cut == 1:
            path = "/".join(parts[:cut]) + ".py"
            rest = parts[cut:]
            return "::".join([path, *rest, case.name or ""])
    return f"{classname}::{case.name}"


_COLLECTION_PATH = re.compile(r"^(?P<path>[^\s:]+\.py)")


def parse_junit(path: Path) -> tuple[list[TestResult], list[CollectionError]]:
    """Results and collection errors from one JUnit file; a missing file gives nothing."""
    if not path.exists() or path.stat().st_size == 0:
        return [], []
    try:
        xml = JUnitXml.fromfile(str(path))
    except (JUnitXmlError, SyntaxError, ValueError):
        return [], []
    results: list[TestResult] = []
    errors: list[CollectionError] = []
    suites = [xml] if xml._tag == "testsuite" else list(xml)
    for suite in suites:
        for case in suite:
            if not isinstance(case, TestCase):
                continue
            props = _properties(case)
            problems = list(case.result)
            nodeid = props.get("mendbot_nodeid")
            if nodeid is None and not case.classname and problems:
                if all(isinstance(problem, Skipped) for problem in problems):
                    # a module that skipped itself (``pytest.importorskip``, or ``skip`` with
                    # ``allow_module_level``): its tests are skipped, as in the terminal
                    continue
                # pytest reports a module that fails to import as a nameless error case
                text = (problems[0].text or "") + "\n" + (problems[0].message or "")
                name = case.name or ""
                match = _COLLECTION_PATH.match(name.replace(".", "/") + ".py")
                errors.append(
                    CollectionError(
                        path=match.group("path") if match else name,
                        message=(problems[0].message or "collection failure").strip(),
                        traceback=text[-MAX_TRACEBACK:],
                    )
                )
                continue
            nodeid = nodeid or _fallback_nodeid(case)
            outcome = Outcome.PASSED
            message = ""
            text = ""
            for problem in problems:
                if isinstance(problem, Failure | Error):
                    outcome = Outcome.FAILED if isinstance(problem, Failure) else Outcome.ERROR
                    message = (problem.message or "").strip()
                    text = problem.text or ""
                    break
                if isinstance(problem, Skipped):
                    outcome = Outcome.SKIPPED
            exception_type = props.get("mendbot_exc", "")
            if exception_type == "Timeout" or TIMEOUT_MARK in message or TIMEOUT_MARK in text:
                outcome = Outcome.TIMEOUT
                exception_type = "Timeout"
            frames = props.get("mendbot_frames", "")
            if frames:
                text = text + "\n[mendbot-frames] " + frames
            results.append(
                TestResult(
                    nodeid=nodeid,
                    outcome=outcome,
                    duration=float(case.time or 0.0),
                    message=message.splitlines()[0][:500] if message else "",
                    exception_type=exception_type,
                    traceback=text[-MAX_TRACEBACK:],
                )
            )
    return results, errors


def frames_from_traceback(text: str) -> list[tuple[str, int, str]]:
    """The structured frames the plugin appended to a result's traceback text."""
    marker = "[mendbot-frames] "
    index = text.rfind(marker)
    if index < 0:
        return []
    try:
        raw = json.loads(text[index + len(marker) :].strip().splitlines()[0])
    except (ValueError, IndexError):
        return []
    return [(str(f[0]), int(f[1]), str(f[2])) for f in raw if isinstance(f, list) and len(f) == 3]
