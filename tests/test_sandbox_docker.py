"""The docker sandbox and its prepared image: recipes and tags, then real containers.

The docker fixtures come from tests/docker_fixtures.py through tests/conftest.py.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docker_fixtures import DEMO_DEPENDENCY, write_demo_project

from bot.config import Settings
from bot.errors import ConfigError, SandboxError
from bot.sandbox.base import Limits, SandboxCommand
from bot.sandbox.docker import LABEL_RUN, DockerSandbox
from bot.sandbox.local import LocalSandbox
from bot.sandbox.prepare import prepare_image, read_recipe
from bot.sandbox.registry import make_sandbox


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


# -- recipes and tags (no engine needed) --------------------------------------------------------


def test_recipe_reads_dependencies_from_pyproject_and_requirements(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """\
        [project]
        name = "Shop.Cart"
        dependencies = ["attrs>=23"]
        [project.optional-dependencies]
        test = ["pytest>=7", "shop-cart[fixtures]"]
        fixtures = ["factory-boy"]
        docs = ["sphinx"]
        """,
    )
    write(
        tmp_path / "requirements-dev.txt",
        """\
        -r requirements/base.txt
        -e .
        --index-url https://example.invalid/simple
        ./vendor/thing
        hypothesis==6.100  # property tests
        """,
    )
    write(tmp_path / "requirements/base.txt", "requests>=2\n-c ../constraints.txt\n")
    write(tmp_path / "constraints.txt", "urllib3<3\n")
    recipe = read_recipe(tmp_path, "python:3.12-slim")
    assert recipe.project == "shop.cart"
    assert recipe.requirements == (
        "attrs>=23",
        "pytest>=7",
        "factory-boy",
        "requests>=2",
        "urllib3<3",
        "hypothesis==6.100",
    )
    assert recipe.tag.startswith("mendbot-env/shop.cart:")
    names = [name for name, _digest in recipe.dependency_files]
    assert names == ["pyproject.toml", "requirements-dev.txt", "requirements/base.txt"]


def test_tag_follows_dependency_files_and_base_only(tmp_path: Path) -> None:
    write_demo_project(tmp_path)
    first = read_recipe(tmp_path, "base:one")
    (tmp_path / "demo.py").write_text("def double(x):\n    return x + x\n")
    (tmp_path / "README.md").write_text("docs change nothing\n")
    assert read_recipe(tmp_path, "base:one").tag == first.tag
    assert read_recipe(tmp_path, "base:two").tag != first.tag
    assert read_recipe(tmp_path, "base:two").deps_digest == first.deps_digest
    assert read_recipe(tmp_path, "base:one", "pip install -r dev.txt").tag != first.tag
    (tmp_path / "requirements.txt").write_text("attrs\n")
    assert read_recipe(tmp_path, "base:one").tag != first.tag


def test_bad_pyproject_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_recipe(tmp_path, "python:3.12-slim")


def test_no_engine_is_a_clear_error_and_auto_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(SandboxError, match="no Docker engine answers") as caught:
        make_sandbox(Settings(sandbox="docker"), project=tmp_path)
    assert "--sandbox local" in caught.value.hint
    sandbox = make_sandbox(Settings(sandbox="auto"), project=tmp_path)
    assert isinstance(sandbox, LocalSandbox)
    assert any(
        "no Docker engine answers" in w and "using the local sandbox" in w
        for w in sandbox.warnings()
    )


def test_unknown_sandbox_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown sandbox 'vm'"):
        make_sandbox(Settings(sandbox="vm"))


# -- real containers ------------------------------------------------------------------------------


def run_pytest(
    sandbox: DockerSandbox, root: Path, scratch: Path, *args: str, **options: Any
) -> tuple[Any, dict[str, str], Path]:
    result_dir = scratch / "result"
    support = scratch / "support"
    support.mkdir(parents=True, exist_ok=True)
    (support / "sandbox_support_probe.py").write_text("READY = True\n")
    junit = result_dir / "junit.xml"
    process = sandbox.run(
        SandboxCommand(
            argv=[
                "{python}",
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={junit}",
                *args,
            ],
            root=root,
            workdir=root,
            result_dir=result_dir,
            support_dir=support,
            env=options.get("env", {}),
            timeout=options.get("timeout", 60.0),
            limits=options.get("limits", Limits()),
        )
    )
    outcomes: dict[str, str] = {}
    if junit.is_file():
        for case in ElementTree.parse(junit).getroot().iter("testcase"):
            kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
            outcomes[case.get("name", "")] = kinds[0] if kinds else "passed"
    return process, outcomes, result_dir


INSIDE_CHECKS = """
import os
import socket
import sys
from pathlib import Path

RESULT = Path({result!r})


def test_runs_as_an_unprivileged_user_without_capabilities():
    assert os.getuid() != 0
    status = Path("/proc/self/status").read_text()
    assert "CapEff:\\t0000000000000000" in status
    assert "NoNewPrivs:\\t1" in status


def test_root_file_system_is_read_only_and_tmp_is_not():
    try:
        Path("/etc/mendbot-was-here").write_text("x")
    except OSError as error:
        assert error.strerror == "Read-only file system"
    else:
        raise AssertionError("wrote into /etc")
    Path("/tmp/scratch.txt").write_text("fine")


def test_only_loopback_exists():
    assert sorted(os.listdir("/sys/class/net")) == ["lo"]


def test_paths_are_the_host_paths():
    assert Path.cwd() == Path({root!r})
    assert RESULT.is_dir()
    import sandbox_support_probe  # from the support folder on PYTHONPATH
    assert sandbox_support_probe.READY


def test_environment_holds_no_secret():
    assert "GITHUB_TOKEN" not in os.environ
    assert os.environ["SAFE_SETTING"] == "kept"


def test_writes():
    Path("written-by-tests.txt").write_text("must not leak")
    (RESULT / "extra-result.txt").write_text("comes back")


def test_project_dependency_is_installed():
    import {dependency}
    assert {dependency}.ANSWER == 42
"""


@pytest.mark.docker
def test_container_is_locked_down_and_only_results_come_back(
    prepared_image: str, demo_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_should_never_enter")
    root = tmp_path / "worktree"
    write_demo_project(root)
    scratch = tmp_path / "scratch"
    (root / "test_inside.py").write_text(
        INSIDE_CHECKS.format(
            result=str(scratch / "result"), root=str(root), dependency=DEMO_DEPENDENCY
        )
    )
    sandbox = DockerSandbox(project=demo_project)
    process, outcomes, result_dir = run_pytest(
        sandbox,
        root,
        scratch,
        env={"GITHUB_TOKEN": "ghp_passed_on_purpose", "SAFE_SETTING": "kept"},
    )
    assert set(outcomes.values()) == {"passed"}, process.stdout + process.stderr
    assert len(outcomes) == 8  # the demo's own test and the seven checks above
    assert process.returncode == 0
    assert not (root / "written-by-tests.txt").exists()
    assert not (root / "__pycache__").exists()
    assert (result_dir / "extra-result.txt").read_text() == "comes back"


@pytest.mark.docker
def test_timeout_kills_and_removes_the_container(
    prepared_image: str, docker_client: Any, tmp_path: Path
) -> None:
    root = tmp_path / "worktree"
    write(root / "test_hang.py", "import time\n\ndef test_hang():\n    time.sleep(600)\n")
    sandbox = DockerSandbox(image=prepared_image, client=docker_client)
    process, outcomes, _ = run_pytest(sandbox, root, tmp_path / "scratch", timeout=4)
    assert process.timed_out
    assert "wall-clock timeout" in process.stderr
    assert outcomes == {}
    # no container of this run is left (other tests may run containers at the same time)
    left = [
        c.id
        for c in docker_client.containers.list(all=True, filters={"label": LABEL_RUN})
        if any(str(tmp_path) in str(m.get("Source", "")) for m in c.attrs.get("Mounts", []))
    ]
    assert left == []


@pytest.mark.docker
def test_output_is_capped(prepared_image: str, docker_client: Any, tmp_path: Path) -> None:
    root = tmp_path / "worktree"
    write(root / "test_loud.py", "def test_loud():\n    print('z' * 300_000)\n")
    sandbox = DockerSandbox(image=prepared_image, client=docker_client)
    process, outcomes, _ = run_pytest(
        sandbox, root, tmp_path / "scratch", "-s", limits=Limits(output_limit=8192)
    )
    assert outcomes == {"test_loud": "passed"}
    assert process.output_truncated
    assert len(process.stdout) < 8192 + 100


@pytest.mark.docker
def test_missing_image_names_the_prepare_command(docker_client: Any, tmp_path: Path) -> None:
    project = write_demo_project(tmp_path / "unprepared")
    (project / "requirements.txt").write_text("nothing-prepared-for-this==1\n")
    sandbox = DockerSandbox(project=project, client=docker_client)
    with pytest.raises(SandboxError, match="does not exist") as caught:
        sandbox.resolve_image(project)
    assert f"mendbot sandbox prepare {project.resolve()}" in caught.value.hint
    fallback = make_sandbox(Settings(sandbox="auto"), project=project)
    assert isinstance(fallback, LocalSandbox)
    assert any("mendbot sandbox prepare" in warning for warning in fallback.warnings())


@pytest.mark.docker
def test_auto_picks_docker_when_the_image_exists(
    prepared_image: str, demo_project: Path, docker_base_image: str
) -> None:
    chosen = make_sandbox(
        Settings(sandbox="auto", base_image=docker_base_image), project=demo_project
    )
    assert isinstance(chosen, DockerSandbox)
    assert chosen.resolve_image(demo_project)[0] == prepared_image
    assert chosen.warnings() == ()
    # with the default base configured, the image prepared from another base is found and said
    other = make_sandbox(Settings(sandbox="docker"), project=demo_project)
    assert isinstance(other, DockerSandbox)
    assert other.resolve_image(demo_project)[0] == prepared_image
    assert any(docker_base_image in warning for warning in other.warnings())


@pytest.mark.docker
def test_prepare_reuses_the_image_and_rejects_an_empty_wheelhouse(
    prepared_image: str,
    docker_client: Any,
    demo_project: Path,
    docker_base_image: str,
    docker_wheelhouse: Path,
    tmp_path: Path,
) -> None:
    recipe = read_recipe(demo_project, docker_base_image)
    again = prepare_image(docker_client, demo_project, recipe, wheelhouse=docker_wheelhouse)
    assert again.reused and again.tag == prepared_image
    empty = tmp_path / "empty-wheelhouse"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no wheels"):
        prepare_image(docker_client, demo_project, recipe, wheelhouse=empty, rebuild=True)


@pytest.mark.docker
def test_cli_prepare_and_status(
    prepared_image: str, demo_project: Path, docker_base_image: str, docker_wheelhouse: Path
) -> None:
    from bot.commands.sandbox import sandbox

    runner = CliRunner()
    prepared = runner.invoke(
        sandbox,
        [
            "prepare",
            "--base-image",
            docker_base_image,
            "--wheelhouse",
            str(docker_wheelhouse),
            str(demo_project),
        ],
    )
    assert prepared.exit_code == 0, prepared.output
    assert prepared.stdout.strip() == prepared_image
    assert "exists already (reused)" in prepared.stderr
    status = runner.invoke(sandbox, ["status", str(demo_project)])
    assert status.exit_code == 0, status.output
    assert f"image: {prepared_image}" in status.stdout
    assert "local sandbox:" in status.stdout


@pytest.mark.docker
def test_setup_command_builds_offline_from_the_wheelhouse(
    docker_client: Any, docker_base_image: str, docker_wheelhouse: Path, tmp_path: Path
) -> None:
    project = write_demo_project(tmp_path / "with-setup")
    (project / "deps.txt").write_text(f"{DEMO_DEPENDENCY}==1.0\n")
    recipe = read_recipe(project, docker_base_image, "pip install -r deps.txt && echo setup-ran")
    assert recipe.requirements == ()
    lines: list[str] = []
    built = prepare_image(
        docker_client, project, recipe, wheelhouse=docker_wheelhouse, progress=lines.append
    )
    assert built.reused or any("setup-ran" in line for line in lines)  # kept for next time
    sandbox = DockerSandbox(image=built.tag, client=docker_client)
    write(
        project / "test_dep.py",
        f"import {DEMO_DEPENDENCY}\n\ndef test_dep():\n    assert {DEMO_DEPENDENCY}.ANSWER == 42\n",
    )
    process, outcomes, _ = run_pytest(sandbox, project, tmp_path / "scratch", "test_dep.py")
    assert outcomes == {"test_dep": "passed"}, process.stdout + process.stderr


BUGGY_CART = """\
def total(prices):
    result = 0
    for price in prices[1:]:
        result += price
    return result
"""

CART_TESTS = """\
from pathlib import Path

from cart import total


def test_total():
    assert total([1, 2, 3]) == 6


def test_empty():
    assert total([]) == 0


def test_runs_in_the_prepared_container():
    assert Path("/opt/mendbot-venv/bin/python").exists()  # false on the host
"""


@pytest.mark.docker
def test_fix_with_the_docker_sandbox_end_to_end(
    docker_client: Any, docker_base_image: str, docker_wheelhouse: Path, tmp_path: Path
) -> None:
    import json
    import subprocess
    import sys

    project = tmp_path / "shop"
    write(
        project / "pyproject.toml",
        f"""\
        [project]
        name = "shop"
        version = "0.1.0"
        [project.optional-dependencies]
        test = ["pytest"]
        [tool.mendbot]
        base-image = "{docker_base_image}"
        """,
    )
    (project / "cart.py").write_text(BUGGY_CART)
    (project / "test_cart.py").write_text(CART_TESTS)
    git = ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "shop"], cwd=project, check=True)

    recipe = read_recipe(project, docker_base_image)
    prepare_image(docker_client, project, recipe, wheelhouse=docker_wheelhouse)

    fixed = subprocess.run(
        [sys.executable, "-m", "bot", "fix", "--sandbox", "docker", "--json", str(project)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    result = json.loads(fixed.stdout)
    assert result["status"] == "fixed", fixed.stderr
    # the container-only test passed at the baseline: the tests really ran in the image
    assert result["extra"]["baseline"]["outcomes"] == {
        "test_cart.py::test_total": "failed",
        "test_cart.py::test_empty": "passed",
        "test_cart.py::test_runs_in_the_prepared_container": "passed",
    }
    assert result["fixed_tests"] == ["test_cart.py::test_total"]


@pytest.mark.docker
def test_fix_without_a_prepared_image_says_how_to_prepare_one(
    docker_client: Any, tmp_path: Path
) -> None:
    import subprocess
    import sys

    project = write_demo_project(tmp_path / "unprepared")
    (project / "requirements.txt").write_text(f"nothing-prepared-{tmp_path.name}==1\n")
    git = ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "demo"], cwd=project, check=True)
    (project / "demo.py").write_text("def double(x):\n    return 3 * x\n")
    subprocess.run([*git, "commit", "-qam", "bug"], cwd=project, check=True)
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "fix", "--sandbox", "docker", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = " ".join(missing.stderr.split())  # the console wraps long lines
    assert missing.returncode == 2, said
    assert "does not exist" in said
    assert "mendbot sandbox prepare" in said
