"""The docker sandbox: every run in a fresh container that is removed afterwards.

Each run: no network (``network_mode="none"``); a read-only root file system with a tmpfs on
/tmp; memory (no swap), pids and CPU limits plus rlimits for file size and CPU time (no
address-space rlimit: it would bind runc's own setup of the container, and the memory cgroup
is the real bound); a non-root user with every capability dropped and no-new-privileges;
docker's init as PID 1; a wall-clock timeout after which the container is killed and
removed; output capped both by the log driver and when read back; only the run's own
variables in the environment (never a token, whatever its name).

Paths. A command names its files by host paths (``--junitxml=<result_dir>/junit.xml``,
the support folder on ``PYTHONPATH``, the coverage file mendbot names),
and tracebacks and coverage data name the files of the worktree. So every folder is mounted at
its own host path inside the container, and nothing needs rewriting: the worktree, from a
throwaway copy made for the run (so nothing the tests write there leaks back), the result
folder read-write (the only way back), the support folder read-only. This needs an engine on
the same machine (bind mounts), which is what GitHub runners and developer machines have.

The image comes from ``mendbot sandbox prepare``: a run never builds or pulls, and a missing
image is an error naming that command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.errors import SandboxError
from bot.models import ProcessResult
from bot.sandbox.base import PYTHON_PLACEHOLDER, SandboxCommand
from bot.sandbox.local import MB, without_secrets
from bot.sandbox.prepare import LABEL_PYTHON, find_image, read_recipe

SANDBOX_UID = 10001  # the user tests run as when mendbot itself runs as root
LABEL_RUN = "org.mendbot.sandbox"
LABEL_OWNER = "org.mendbot.owner"  # which mendbot process a container belongs to
# The guard: a small process that waits for mendbot to die (its standard input, a pipe whose
# only writer is mendbot, reaches end of file) and then removes mendbot's containers. It
# catches what no clean-up code of mendbot can: a SIGKILL.
GUARD_CODE = """
import sys
sys.stdin.buffer.read()
import docker
client = docker.from_env(timeout=30)
for container in client.containers.list(all=True, filters={"label": sys.argv[1]}):
    try:
        container.remove(force=True)
    except docker.errors.APIError:
        pass
"""
SKIPPED_IN_COPY = {".git", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox"}
DEFAULT_BASE_IMAGE = "python:3.12-slim"


def connect(timeout: float = 30.0) -> Any:
    """A docker client for the engine the environment names (DOCKER_HOST or the socket)."""
    try:
        import docker
        import docker.errors
    except ImportError:  # pragma: no cover - docker is a dependency
        raise SandboxError(
            "the docker Python package is not installed", hint="pip install docker"
        ) from None
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except docker.errors.DockerException as error:
        raise SandboxError(
            f"no Docker engine answers: {error}",
            hint="start Docker (or `dockerd`), or use --sandbox local",
        ) from None
    return client


def prepare_command(project: Path, base_image: str) -> str:
    base = "" if base_image == DEFAULT_BASE_IMAGE else f" --base-image {base_image}"
    return f"mendbot sandbox prepare{base} {project}"


def _ignore_for_copy(folder: str, names: list[str]) -> set[str]:
    skipped = {name for name in names if name in SKIPPED_IN_COPY}
    for name in names:  # a virtual environment is the host's, useless in the container
        if (Path(folder) / name / "pyvenv.cfg").is_file():
            skipped.add(name)
    return skipped


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            with contextlib.suppress(OSError):
                os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def _remove_tree(path: Path) -> None:
    def make_writable(function: Any, target: str, _error: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
            function(target)

    shutil.rmtree(path, onerror=make_writable)


def _tail(data: bytes, limit: int) -> tuple[str, bool]:
    text = data[-limit:].decode("utf-8", errors="replace")
    if len(data) > limit:
        return f"[... {len(data) - limit} bytes cut ...]\n" + text, True
    return text, False


class DockerSandbox:
    name = "docker"

    def __init__(
        self,
        *,
        project: Path | None = None,
        image: str | None = None,
        base_image: str = DEFAULT_BASE_IMAGE,
        setup_command: str | None = None,
        cpus: float | None = None,
        client: Any = None,
        notes: Sequence[str] = (),
    ) -> None:
        """``image`` names the image outright; otherwise it is the one ``mendbot sandbox
        prepare`` made for ``project`` (by default the folder each command runs in)."""
        self.project = project
        self.image = image
        self.base_image = base_image
        self.setup_command = setup_command
        self.cpus = cpus if cpus is not None else float(min(2, os.cpu_count() or 1))
        self._client = client
        self._notes = list(notes)
        self._images: dict[Path, tuple[str, str]] = {}
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._guard: subprocess.Popen[bytes] | None = None
        self._guard_pipe = -1

    def _start_guard(self) -> None:
        """Start (once) the process that removes this sandbox's containers if mendbot dies."""
        if self._guard is not None and self._guard.poll() is None:
            return
        read_end, self._guard_pipe = os.pipe()
        try:
            self._guard = subprocess.Popen(
                [sys.executable, "-c", GUARD_CODE, f"{LABEL_OWNER}={self.owner}"],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # not stopped with mendbot's process group
            )
        finally:
            os.close(read_end)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect()
        return self._client

    def warnings(self) -> Sequence[str]:
        return tuple(self._notes)

    def resolve_image(self, project: Path) -> tuple[str, str]:
        """(image, python inside it) for ``project``; SandboxError when it is not prepared."""
        import docker.errors

        project = project.resolve()
        if project in self._images:
            return self._images[project]
        if self.image:
            name = self.image
            hint = f"build it with `docker build -t {name} ...`, or drop docker-image to use " + (
                f"`{prepare_command(project, self.base_image)}`"
            )
        else:
            recipe = read_recipe(project, self.base_image, self.setup_command)
            found, note = find_image(self.client, recipe)
            if note:
                self._notes.append(note)
            name = found or recipe.tag
            hint = f"build it first with `{prepare_command(project, self.base_image)}`"
        try:
            image = self.client.images.get(name)
        except docker.errors.ImageNotFound:
            raise SandboxError(
                f"the docker sandbox image {name} does not exist (images are never pulled or "
                "built during a repair)",
                hint=hint,
            ) from None
        python = str((image.labels or {}).get(LABEL_PYTHON) or "python3")
        self._images[project] = (name, python)
        return name, python

    def run(self, command: SandboxCommand) -> ProcessResult:
        if not command.workdir.is_dir() or not command.root.is_dir():
            raise SandboxError(
                f"cannot run the tests in {command.workdir}: the folder does not exist",
                hint="check the project path",
            )
        image, python = self.resolve_image(self.project or command.workdir)
        argv = [python if part == PYTHON_PLACEHOLDER else part for part in command.argv]
        root = command.root.absolute()
        result_dir = command.result_dir.absolute()
        result_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="mendbot-docker-"))
        try:
            copy = scratch / "workspace"
            shutil.copytree(root, copy, symlinks=True, ignore=_ignore_for_copy)
            if os.geteuid() == 0:
                user = f"{SANDBOX_UID}:{SANDBOX_UID}"
                _chown_tree(copy, SANDBOX_UID, SANDBOX_UID)
                _chown_tree(result_dir, SANDBOX_UID, SANDBOX_UID)
            else:
                user = f"{os.getuid()}:{os.getgid()}"
            return self._run_container(command, image, argv, user, copy)
        finally:
            _remove_tree(scratch)

    def _container_options(self, command: SandboxCommand, user: str, copy: Path) -> dict[str, Any]:
        from docker.types import LogConfig, Mount, Ulimit

        limits = command.limits
        env = {
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            **without_secrets(command.env),
        }
        support = str(command.support_dir.absolute())
        env["PYTHONPATH"] = os.pathsep.join([support, *filter(None, [env.get("PYTHONPATH")])])
        memory = f"{limits.memory_mb}m"
        log_size = max(2 * limits.output_limit, 1024 * 1024) // 1024
        return {
            "environment": env,
            "working_dir": str(command.workdir.absolute()),
            "user": user,
            "network_mode": "none",
            "read_only": True,
            "tmpfs": {"/tmp": f"rw,exec,nosuid,nodev,size={min(512, limits.memory_mb // 2)}m"},
            "mem_limit": memory,
            "memswap_limit": memory,
            "pids_limit": limits.processes,
            "nano_cpus": int(self.cpus * 1_000_000_000),
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "init": True,
            "ulimits": [
                Ulimit(name="fsize", soft=limits.file_size_mb * MB, hard=limits.file_size_mb * MB),
                Ulimit(name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds),
                Ulimit(name="core", soft=0, hard=0),
            ],
            "mounts": [
                Mount(str(command.root.absolute()), str(copy), type="bind"),
                Mount(
                    str(command.result_dir.absolute()),
                    str(command.result_dir.absolute()),
                    type="bind",
                ),
                Mount(support, support, type="bind", read_only=True),
            ],
            "log_config": LogConfig(
                type="json-file", config={"max-size": f"{log_size}k", "max-file": "1"}
            ),
            "labels": {LABEL_RUN: "run", LABEL_OWNER: self.owner},
            "hostname": "mendbot-sandbox",
            "stdin_open": False,
            "detach": True,
        }

    def _run_container(
        self, command: SandboxCommand, image: str, argv: list[str], user: str, copy: Path
    ) -> ProcessResult:
        import docker.errors
        import requests.exceptions

        started = time.monotonic()
        self._start_guard()
        try:
            container = self.client.containers.create(
                image, argv, **self._container_options(command, user, copy)
            )
        except docker.errors.APIError as error:
            raise SandboxError(
                f"the docker sandbox could not create a container: {error.explanation or error}",
                hint="check `docker info`, or use --sandbox local",
            ) from None
        timed_out = False
        try:
            container.start()
            try:
                status = container.wait(timeout=command.timeout)
                code = int(status.get("StatusCode", -1))
            except (requests.exceptions.RequestException, docker.errors.APIError):
                timed_out = True
                with contextlib.suppress(docker.errors.APIError):
                    container.kill()
                code = -9
            duration = time.monotonic() - started
            container.reload()
            out_of_memory = bool(container.attrs.get("State", {}).get("OOMKilled"))
            limit = command.limits.output_limit
            stdout, cut_out = _tail(container.logs(stdout=True, stderr=False), limit)
            stderr, cut_err = _tail(container.logs(stdout=False, stderr=True), limit)
        finally:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
        if timed_out:
            stderr += (
                f"\nmendbot sandbox: stopped after the {command.timeout:g} s wall-clock timeout\n"
            )
        elif out_of_memory:
            stderr += (
                "\nmendbot sandbox: the container ran out of memory "
                f"({command.limits.memory_mb} MB) and was killed\n"
            )
        elif code > 128:
            stderr += f"\nmendbot sandbox: the test process was killed by signal {code - 128}\n"
        return ProcessResult(
            returncode=code,
            stdout=stdout,
            stderr=stderr,
            duration=duration,
            timed_out=timed_out,
            output_truncated=cut_out or cut_err,
        )
