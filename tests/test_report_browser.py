"""The HTML report of a real run, opened in real headless Chromium (Debian's `chromium`):
the timeline, the diffs and the test matrix are there and visible, nothing is loaded from
anywhere, and the console stays clean. `.ci/chromium-setup.sh` installs the browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from history_fixtures import (  # noqa: F401 - example_run_fixture provides example_run
    ExampleRun,
    cli,
    example_run_fixture,
)
from report_browser import Browser, chromium_path

CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed: run .ci/chromium-setup.sh (apt-get install -y chromium)",
)

# What a person sees: for each selector, how many elements match, how many are visible (a
# box with a size, not hidden), and whether the first one is really on top when scrolled to.
PROBE = """
(() => {
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility === "visible"
      && style.display !== "none" && parseFloat(style.opacity) > 0;
  };
  const onTop = (el) => {
    el.scrollIntoView({block: "center"});
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + Math.min(box.width / 2, 40),
                                          box.top + Math.min(box.height / 2, 10));
    return hit !== null && (el === hit || el.contains(hit));
  };
  const probe = (selector) => {
    const all = [...document.querySelectorAll(selector)];
    return {
      count: all.length,
      visible: all.filter(shown).length,
      onTop: all.length > 0 && onTop(all[0]),
      text: all.map((el) => el.innerText).join("\\n"),
    };
  };
  const result = {
    title: document.title,
    timeline: probe("#timeline .bar"),
    labels: probe("#timeline .label"),
    diffs: probe("#rounds .diff"),
    matrix: probe("#tests table.matrix"),
    failCells: probe("#tests td.fail"),
    failColour: getComputedStyle(document.querySelector("#tests td.fail")).backgroundColor,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
  window.scrollTo(0, 0);
  return result;
})()
"""


@pytest.fixture(scope="module")
def browser() -> Any:
    assert CHROMIUM is not None
    with Browser(CHROMIUM, width=1280, height=900) as opened:
        yield opened


def test_the_console_check_catches_errors(browser: Browser, tmp_path: Path) -> None:
    """The check below can fail: a page with a console error, an exception and a missing
    image is caught."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><p>x</p><img src='missing.png'>"
        "<script>console.error('boom'); undefinedFunction();</script>"
    )
    browser.open(page)
    problems = browser.console_errors()
    assert any("boom" in p for p in problems), problems
    assert any("undefinedFunction" in p for p in problems), problems
    assert any(url.endswith("missing.png") for url in browser.requests())


def test_the_report_of_a_real_run_renders_in_chromium(
    browser: Browser, example_run: ExampleRun, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    done = cli("report", "last", "-o", str(report), cwd=example_run.root)
    assert done.code == 0, done.stderr

    browser.open(report)

    assert browser.console_errors() == []
    assert browser.requests() == [report.resolve().as_uri()], "nothing but the file is loaded"
    seen = browser.evaluate(PROBE)
    assert seen["title"] == f"mendbot run {example_run.run_id}: fixed"
    # the timeline: a bar per stage and round, all visible, labelled
    assert seen["timeline"]["count"] >= 6
    assert seen["timeline"]["visible"] == seen["timeline"]["count"]
    assert seen["timeline"]["onTop"]
    for label in ("baseline", "round 1: verify (kept)", "round 2: verify (rolled back)"):
        assert label in seen["labels"]["text"], label
    # the diffs: one per attempt, highlighted, readable
    assert seen["diffs"]["count"] == seen["diffs"]["visible"] == 3
    assert seen["diffs"]["onTop"]
    assert "+        return high" in seen["diffs"]["text"]
    assert "+    if value >= high:" in seen["diffs"]["text"]
    # the test matrix: visible, failing cells marked in colour, nothing wider than the window
    assert seen["matrix"]["count"] == seen["matrix"]["visible"] == 1
    assert seen["matrix"]["onTop"]
    assert (
        "test_house_style" in seen["matrix"]["text"]
        and "#2 round 2 (rolled back)" in (seen["matrix"]["text"])
    )
    assert seen["failCells"]["visible"] == seen["failCells"]["count"] >= 3
    assert seen["failColour"] not in ("rgba(0, 0, 0, 0)", "transparent")
    assert seen["overflow"] <= 0, "the report fits the window's width"

    shot = browser.screenshot(tmp_path / "report.png", height=1600)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    (tmp_path / "probe.json").write_text(json.dumps(seen, indent=2))
