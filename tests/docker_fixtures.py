"""Fixtures for tests that need a Docker engine (load with ``pytest_plugins``).

A test that uses them is skipped, with the reason shown, when no engine answers or when the
engine answers but the base image or the wheelhouse was never prepared (run
``.ci/docker-setup.sh``: it builds both). Where the machine must run them (CI after that
script succeeded), ``MENDBOT_REQUIRE_DOCKER=1`` turns each of those skips into a failure.
``MENDBOT_TEST_BASE_IMAGE`` and ``MENDBOT_TEST_WHEELHOUSE`` override where the image and the
wheels are looked for, as in that script.

PYTEST_DONT_REWRITE: no asserts here, and several test modules load it as a plugin.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.errors import SandboxError

BASE_IMAGE = os.environ.get("MENDBOT_TEST_BASE_IMAGE", "mendbot-base:bookworm")
WHEELHOUSE = Path(
    os.environ.get("MENDBOT_TEST_WHEELHOUSE", Path.home() / ".cache/mendbot/wheelhouse")
)
SETUP_HINT = "run .ci/docker-setup.sh (it starts dockerd, builds the base image and the wheels)"
DEMO_DEPENDENCY = "mendbot_demo_dep"  # a wheel made here: proves project dependencies install
REQUIRE_DOCKER = "MENDBOT_REQUIRE_DOCKER"


def docker_unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail where the docker tests are required."""
    if os.environ.get(REQUIRE_DOCKER, "") not in ("", "0"):
        pytest.fail(f"{reason} (and {REQUIRE_DOCKER} is set: these tests must run here)")
    pytest.skip(reason)


def make_wheel(folder: Path, name: str, version: str, module_source: str) -> Path:
    """A minimal pure-Python wheel holding one module ``name``."""
    dist = f"{name}-{version}"
    files = {
        f"{name}.py": module_source.encode(),
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        ).encode(),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: mendbot-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record_lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record_lines.append(f"{path},sha256={digest},{len(data)}")
    record_lines.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    target = folder / f"{dist}-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
    target.write_bytes(buffer.getvalue())
    return target


def write_demo_project(folder: Path) -> Path:
    """A tiny project whose test extra needs pytest and the demo dependency."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "sandbox-demo"
            version = "0.1.0"
            dependencies = []

            [project.optional-dependencies]
            test = ["pytest>=7", "{DEMO_DEPENDENCY}==1.0"]
            """
        )
    )
    (folder / "demo.py").write_text("def double(x):\n    return 2 * x\n")
    (folder / "test_demo.py").write_text(
        "import demo\n\n\ndef test_double():\n    assert demo.double(2) == 4\n"
    )
    return folder


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A client for a Docker engine that answers; the test skips when none does."""
    from bot.sandbox.docker import connect

    try:
        client = connect(10.0)
    except SandboxError as error:
        docker_unavailable(f"{error.message}; {SETUP_HINT}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def docker_base_image(docker_client: Any) -> str:
    from bot.sandbox.prepare import image_exists

    if not image_exists(docker_client, BASE_IMAGE):
        docker_unavailable(
            f"the engine answers but the base image {BASE_IMAGE} was never prepared: {SETUP_HINT}"
        )
    return BASE_IMAGE


@pytest.fixture(scope="session")
def docker_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The host-downloaded wheels plus the demo dependency's wheel, in a folder of their own."""
    wheels = sorted(WHEELHOUSE.glob("*.whl"))
    if not any(path.name.startswith("pytest-") for path in wheels):
        docker_unavailable(f"the wheelhouse {WHEELHOUSE} has no pytest wheel: {SETUP_HINT}")
    folder = tmp_path_factory.mktemp("wheelhouse")
    for path in wheels:
        (folder / path.name).write_bytes(path.read_bytes())
    make_wheel(folder, DEMO_DEPENDENCY, "1.0", "ANSWER = 42\n")
    return folder


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_project(tmp_path_factory.mktemp("demo") / "sandbox-demo")


@pytest.fixture(scope="session")
def prepared_image(
    docker_client: Any, docker_base_image: str, docker_wheelhouse: Path, demo_project: Path
) -> str:
    """The demo project's prepared image (built once, then reused across sessions)."""
    from bot.sandbox.prepare import prepare_image, read_recipe

    recipe = read_recipe(demo_project, docker_base_image)
    return prepare_image(docker_client, demo_project, recipe, wheelhouse=docker_wheelhouse).tag
