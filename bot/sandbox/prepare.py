"""The docker sandbox's image: which dependencies a project's tests need, and the image with them.

``mendbot sandbox prepare`` builds, from a base image, an image with a virtual environment at
``/opt/mendbot-venv`` that holds pytest, pytest-cov and coverage (mendbot's runner needs them)
and the project's test dependencies. Those come from, in this order:

* a configured setup command (``setup-command``), run in a copy of the project inside the
  build; it should install dependencies, not the project itself, because the tests must import
  the code from the worktree mounted at run time;
* otherwise ``[project] dependencies`` and the test-like extras (``test``, ``tests``,
  ``testing``, ``dev``) of pyproject.toml, and every ``requirements*.txt`` (also in
  ``requirements/``), with ``-r``/``-c`` includes followed and local or editable entries left
  out.

The image is tagged ``mendbot-env/<project>:<hash>``, the hash covering the dependency files'
contents, the setup command and the base image, and is reused until one of them changes. The
build never pulls anything except, when it is missing, the base image named on the command
line; a repair never builds or pulls. With ``--wheelhouse DIR`` pip installs only from that
folder (``--no-index``) and the build runs with no network, for machines whose containers
cannot reach a package index.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, SandboxError

RECIPE_VERSION = "1"  # bump when the Dockerfile below changes in a way old images lack
VENV = "/opt/mendbot-venv"
PYTHON_IN_IMAGE = f"{VENV}/bin/python"
RUNNER_REQUIREMENTS = ("pytest", "pytest-cov", "coverage")
TEST_EXTRAS = ("test", "tests", "testing", "dev")
LABEL_PYTHON = "org.mendbot.python"
LABEL_DEPS = "org.mendbot.deps"
LABEL_BASE = "org.mendbot.base"
LABEL_PROJECT = "org.mendbot.project"
REPOSITORY = "mendbot-env"


@dataclass(frozen=True)
class Recipe:
    """Everything an image for one project depends on."""

    project: str  # a docker-safe project name
    base_image: str
    dependency_files: tuple[tuple[str, str], ...]  # (relative path, sha256 of the contents)
    requirements: tuple[str, ...]  # what pip installs (without the runner's own)
    setup_command: str | None = None

    @property
    def deps_digest(self) -> str:
        """The hash of the dependencies alone (whatever the base image)."""
        data = {
            "version": RECIPE_VERSION,
            "files": self.dependency_files,
            "setup": self.setup_command,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    @property
    def digest(self) -> str:
        both = f"{self.deps_digest}\n{self.base_image}"
        return hashlib.sha256(both.encode()).hexdigest()

    @property
    def tag(self) -> str:
        return f"{REPOSITORY}/{self.project}:{self.digest[:16]}"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")
    return cleaned or "project"


def _requirement_name(line: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def _extras_of(line: str) -> list[str]:
    match = re.match(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*\[([^\]]*)\]", line)
    return [part.strip() for part in match.group(1).split(",") if part.strip()] if match else []


def _pyproject_requirements(table: Mapping[str, Any]) -> list[str]:
    project = table.get("project", {})
    if not isinstance(project, dict):
        return []
    own = re.sub(r"[-_.]+", "-", str(project.get("name", ""))).lower()
    extras = project.get("optional-dependencies", {})
    extras = extras if isinstance(extras, dict) else {}
    found: list[str] = []
    wanted = [name for name in TEST_EXTRAS if name in extras]
    done: set[str] = set()

    def add(lines: Iterable[object]) -> None:
        for line in lines:
            text = str(line).strip()
            if own and _requirement_name(text) == own:  # "project[extra]" names more extras
                wanted.extend(extra for extra in _extras_of(text) if extra not in done)
            elif text:
                found.append(text)

    add(project.get("dependencies", []) or [])
    while wanted:
        extra = wanted.pop(0)
        if extra not in done and isinstance(extras.get(extra), list):
            done.add(extra)
            add(extras[extra])
    return found


def _requirements_file_lines(path: Path, project: Path, seen: set[Path]) -> Iterator[str]:
    """Requirement lines of one file, includes followed, local or editable entries left out."""
    path = path.resolve()
    if path in seen or not path.is_file() or not path.is_relative_to(project):
        return
    seen.add(path)
    for raw in path.read_text(errors="replace").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        include = re.match(r"^(-r|-c|--requirement|--constraint)(=|\s+)(\S+)$", line)
        if include:
            yield from _requirements_file_lines(path.parent / include.group(3), project, seen)
        elif line.startswith(("-", ".", "/", "file:")) or "@ file:" in line:
            continue  # editable or local installs, index options: not for the image
        else:
            yield line


def dependency_files(project: Path) -> list[Path]:
    names = ["pyproject.toml", "setup.cfg", "setup.py"]
    found = [project / name for name in names if (project / name).is_file()]
    found += sorted(project.glob("requirements*.txt"))
    found += sorted(project.glob("*requirements.txt"))
    found += sorted((project / "requirements").glob("*.txt"))
    unique: dict[Path, None] = dict.fromkeys(path for path in found if path.is_file())
    return list(unique)


def read_recipe(project: Path, base_image: str, setup_command: str | None = None) -> Recipe:
    """The recipe for ``project``'s image: cheap, read again at the start of every run."""
    project = project.resolve()
    if not project.is_dir():
        raise ConfigError(f"{project} is not a folder", hint="pass the project's folder")
    files = dependency_files(project)
    name = project.name
    requirements: list[str] = []
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{pyproject} is not valid TOML: {error}", hint="fix it") from None
        name = str(table.get("project", {}).get("name") or name)
        if not setup_command:
            requirements += _pyproject_requirements(table)
    if not setup_command:
        seen: set[Path] = set()
        for path in files:
            if path.suffix == ".txt":
                requirements += _requirements_file_lines(path, project, seen)
    digests = tuple(
        (path.relative_to(project).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest())
        for path in files
    )
    unique = tuple(dict.fromkeys(requirements))
    return Recipe(_safe_name(name), base_image, digests, unique, setup_command or None)


def dockerfile(recipe: Recipe, wheelhouse: bool) -> str:
    lines = [
        f"FROM {recipe.base_image}",
        "USER root",
        "ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore",
        f"RUN python3 -m venv {VENV}",
        f"ENV PATH={VENV}/bin:$PATH VIRTUAL_ENV={VENV}",
    ]
    if wheelhouse:  # build arguments reach RUN steps but do not stay in the image
        lines += [
            "COPY wheelhouse/ /opt/mendbot-wheelhouse/",
            "ARG PIP_NO_INDEX=1",
            "ARG PIP_FIND_LINKS=/opt/mendbot-wheelhouse",
        ]
    lines += [
        "COPY requirements.txt /opt/mendbot/requirements.txt",
        "RUN pip install -r /opt/mendbot/requirements.txt",
    ]
    if recipe.setup_command:
        lines += [
            "COPY project/ /opt/mendbot/project/",
            "WORKDIR /opt/mendbot/project",
            "RUN " + json.dumps(["/bin/sh", "-c", recipe.setup_command]),
            "WORKDIR /",
        ]
    lines.append('RUN python -c "import pytest, pytest_cov, coverage"')
    if wheelhouse:
        lines.append("RUN rm -rf /opt/mendbot-wheelhouse")
    return "\n".join(lines) + "\n"


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _skip_in_context(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    parts = Path(info.name).parts
    skipped = {".git", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox", ".nox", ".venv"}
    return None if skipped.intersection(parts) else info


def build_context(recipe: Recipe, project: Path, wheelhouse: Path | None) -> bytes:
    """The build context as an uncompressed tar archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        _add_bytes(archive, "Dockerfile", dockerfile(recipe, wheelhouse is not None).encode())
        lines = [*RUNNER_REQUIREMENTS, *recipe.requirements]
        _add_bytes(archive, "requirements.txt", ("\n".join(lines) + "\n").encode())
        if wheelhouse is not None:
            archive.add(str(wheelhouse), arcname="wheelhouse")
        if recipe.setup_command:
            archive.add(str(project), arcname="project", filter=_skip_in_context)
    return buffer.getvalue()


@dataclass(frozen=True)
class Prepared:
    tag: str
    reused: bool
    recipe: Recipe


def image_exists(client: Any, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def prepare_image(
    client: Any,
    project: Path,
    recipe: Recipe,
    *,
    wheelhouse: Path | None = None,
    rebuild: bool = False,
    progress: Callable[[str], None] = lambda line: None,
) -> Prepared:
    """Build the recipe's image unless it exists (or ``rebuild``); explicit, never mid-repair."""
    import docker.errors

    if wheelhouse is not None and not any(wheelhouse.glob("*.whl")):
        raise ConfigError(
            f"the wheelhouse {wheelhouse} holds no wheels",
            hint="fill it with `pip download --only-binary=:all: -d DIR pytest pytest-cov "
            "coverage <your test dependencies>` for the image's Python version",
        )
    if not rebuild and image_exists(client, recipe.tag):
        return Prepared(recipe.tag, True, recipe)
    base_missing = not image_exists(client, recipe.base_image)
    if base_missing:
        progress(f"the base image {recipe.base_image} is not here: docker will try to pull it")
    labels = {
        LABEL_PYTHON: PYTHON_IN_IMAGE,
        LABEL_DEPS: recipe.deps_digest,
        LABEL_BASE: recipe.base_image,
        LABEL_PROJECT: recipe.project,
    }
    log: list[str] = []
    try:
        stream = client.api.build(
            fileobj=io.BytesIO(build_context(recipe, project, wheelhouse)),
            custom_context=True,
            tag=recipe.tag,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            labels=labels,
            network_mode="none" if wheelhouse is not None else None,
        )
        for chunk in stream:
            if "error" in chunk:
                raise SandboxError(
                    f"building {recipe.tag} failed: {str(chunk['error']).strip()}",
                    hint=_build_hint(recipe, wheelhouse, base_missing, "".join(log[-15:])),
                )
            text = str(chunk.get("stream", ""))
            for line in text.splitlines():
                if line.strip():
                    log.append(line + "\n")
                    progress(line)
    except docker.errors.APIError as error:
        raise SandboxError(
            f"building {recipe.tag} failed: {error.explanation or error}",
            hint=_build_hint(recipe, wheelhouse, base_missing, "".join(log[-15:])),
        ) from None
    if not image_exists(client, recipe.tag):
        raise SandboxError(f"building {recipe.tag} ended without an image", hint="see the log")
    return Prepared(recipe.tag, False, recipe)


def _build_hint(recipe: Recipe, wheelhouse: Path | None, base_missing: bool, tail: str) -> str:
    if base_missing:
        return (
            f"the base image {recipe.base_image} is not here and could not be pulled: pass "
            "--base-image with an image `docker images` lists, or build one without a registry "
            "(debootstrap + `docker import`, as .ci/docker-setup.sh does)"
        )
    if wheelhouse is not None:
        return (
            f"pip installs only from {wheelhouse}: it needs a wheel for every requirement, "
            "built for the image's Python version and platform"
            + (f"\nlast build lines:\n{tail}" if tail else "")
        )
    return "check the build output above" + (f"\nlast build lines:\n{tail}" if tail else "")


def find_image(client: Any, recipe: Recipe) -> tuple[str | None, str | None]:
    """The image for ``recipe``: its own tag, else the newest image prepared for the same
    dependencies from another base (with a note saying so). (None, None) when there is none."""
    if image_exists(client, recipe.tag):
        return recipe.tag, None
    images = client.images.list(filters={"label": f"{LABEL_DEPS}={recipe.deps_digest}"})
    if not images:
        return None, None
    newest = max(images, key=lambda image: str(image.attrs.get("Created", "")))
    name = next(iter(newest.tags), newest.id)
    base = newest.labels.get(LABEL_BASE, "another base")
    note = (
        f"docker sandbox: using {name}, prepared from {base} "
        f"(base-image is {recipe.base_image}, for which no image is prepared)"
    )
    return name, note
