"""A hostile test suite, run through each sandbox: every attack must be contained.

Each attack is one test file of a project under repair, run by pytest inside the sandbox the
way mendbot runs tests. Each attack test passes only if its attack worked, so a contained
attack ends as a failed test (or a timed-out or killed run) with a reason. Afterwards the host
is checked (the listener got no connection, the marker outside was not written, no process of
the run is left, this process is alive) and a harmless test must still pass in the same
sandbox.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.models import ProcessResult
from bot.sandbox.base import Limits, Sandbox, SandboxCommand
from bot.sandbox.local import LocalSandbox, bubblewrap_isolation

SECRET_VALUE = "ghp_containmentSentinel0123456789abcdef"
HOME_SECRET = "homeSentinel0123456789"
SECRET_NAMES = ("GITHUB_TOKEN", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY", "MENDBOT_LLM_API_KEY")
LIMITS = Limits(memory_mb=512, processes=64, file_size_mb=64, cpu_seconds=60)
RUN_TIMEOUT = 60.0
SLEEP_TIMEOUT = 4.0

ATTACKS = {
    "network": """
        import socket

        def test_reach_host_listener():
            socket.create_connection(("127.0.0.1", {port}), timeout=3).close()

        def test_reach_public_address():
            socket.create_connection(("1.1.1.1", 53), timeout=3).close()
        """,
    "fork_bomb": """
        import os
        import time

        def test_fork_bomb():
            while True:
                if os.fork() == 0:  # every child forks as long as it can, never returns to pytest
                    while True:
                        try:
                            os.fork()
                        except OSError:
                            time.sleep(1000)  # at the limit: wait, holding the slot
        """,
    "memory": """
        def test_allocate_ten_gigabytes():
            block = bytearray(10 * 1024 ** 3)
            assert len(block) == 10 * 1024 ** 3
        """,
    "write_outside": """
        from pathlib import Path

        def test_write_outside_the_workspace():
            Path({marker!r}).write_text("escaped")
        """,
    "secrets": """
        import os
        from pathlib import Path

        NAMES = {names!r}

        def test_read_secrets_from_environment():
            found = {{name: os.environ[name] for name in NAMES if name in os.environ}}
            assert found, "no secret in the environment"
            print(found)

        def test_read_secrets_of_other_processes():
            wanted = {reversed_value!r}[::-1].encode()  # never spelled out in a traceback
            for entry in Path("/proc").iterdir():
                try:
                    if wanted in (entry / "environ").read_bytes():
                        return
                except OSError:
                    continue
            raise AssertionError("no process with a secret in its environment is visible")
        """,
    "home_secrets": """
        from pathlib import Path

        def test_read_key_from_own_home():
            print((Path.home() / ".ssh" / "id_rsa").read_text())

        def test_read_credentials_by_full_path():
            print(Path({home!r}, ".git-credentials").read_text())

        def test_list_the_real_home():
            assert ".ssh" in [path.name for path in Path({home!r}).iterdir()]
        """,
    "sleep_forever": """
        import time

        def test_sleep_forever():
            while True:
                time.sleep(1000)
        """,
    "kill_parent": """
        import os
        import signal
        import time

        def test_kill_parent():
            parent = os.getppid()
            os.kill(parent, signal.SIGKILL)
            time.sleep(1)
            os.kill(parent, 0)  # raises when the parent is gone
            raise AssertionError(f"the parent (pid {{parent}}) survived SIGKILL")
        """,
}


@dataclass
class Outcome:
    process: ProcessResult
    outcomes: dict[str, str]  # test name -> "passed" | "failed" | "error" | "skipped"

    @property
    def reason(self) -> str:
        return (self.process.stdout + self.process.stderr)[-3000:]


def read_junit(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    outcomes: dict[str, str] = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name", "")] = kinds[0] if kinds else "passed"
    return outcomes


def run_file(sandbox: Sandbox, root: Path, name: str, scratch: Path, **options: Any) -> Outcome:
    result_dir = scratch / f"result-{name}"
    support = scratch / "support"
    support.mkdir(exist_ok=True)
    junit = result_dir / "junit.xml"
    command = SandboxCommand(
        argv=[
            "{python}",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--junitxml",
            str(junit),
            f"test_{name}.py",
        ],
        root=root,
        workdir=root,
        result_dir=result_dir,
        support_dir=support,
        # no third-party plugins: faster and the same on the host and in the image
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **options.get("env", {})},
        timeout=options.get("timeout", RUN_TIMEOUT),
        limits=LIMITS,
    )
    process = sandbox.run(command)
    return Outcome(process, read_junit(junit))


def leftover_processes(token: str) -> list[int]:
    """Host processes whose command line mentions ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def assert_contained(outcome: Outcome) -> None:
    """A failed or errored test, or a timed-out or killed run, and never a passing attack."""
    assert "passed" not in outcome.outcomes.values(), outcome.reason
    ended_badly = outcome.process.timed_out or outcome.process.returncode not in (0, 5)
    assert ended_badly, outcome.reason
    if not outcome.outcomes:  # no verdict: the run itself must say why it ended
        assert "mendbot sandbox:" in outcome.process.stderr, outcome.reason


@pytest.fixture(
    params=[
        "local",
        "local-bubblewrap",
        "local-without-namespaces",
        pytest.param("docker", marks=pytest.mark.docker),
    ]
)
def backend(request: pytest.FixtureRequest) -> Sandbox:
    """Each sandbox, and the local one in its weaker forms (which must say what they lack)."""
    if request.param == "local":
        return LocalSandbox()
    if request.param == "local-bubblewrap":
        isolation = bubblewrap_isolation()
        if isolation is None:
            pytest.skip("bubblewrap is not installed or refused here")
        return LocalSandbox(isolation=isolation)
    if request.param == "local-without-namespaces":
        return LocalSandbox(isolate=False)
    from bot.sandbox.docker import DockerSandbox

    image = request.getfixturevalue("prepared_image")
    return DockerSandbox(image=image, client=request.getfixturevalue("docker_client"))


def require_claim(backend: Sandbox, granted: bool, warning: str) -> None:
    """Skip an attack the backend does not claim to contain, after checking it says so."""
    if not granted:
        said = " | ".join(backend.warnings())
        assert warning in said, said
        pytest.skip(f"{backend.name} does not claim this here, and says so: {warning!r}")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener in this (mendbot's) network namespace."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture
def secret_holder(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Secrets in this process's environment and in a host process started with them."""
    for name in SECRET_NAMES:
        monkeypatch.setenv(name, SECRET_VALUE)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env={**os.environ, **dict.fromkeys(SECRET_NAMES, SECRET_VALUE)},
    )
    yield holder.pid
    holder.kill()
    holder.wait()


@pytest.fixture
def project(tmp_path: Path, listener: socket.socket) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    values = {
        "port": listener.getsockname()[1],
        "marker": str(tmp_path / "outside" / "escaped.txt"),
        "names": SECRET_NAMES,
        "reversed_value": SECRET_VALUE[::-1],
        "home": str(tmp_path / "home"),
    }
    (tmp_path / "outside").mkdir()
    for name, source in ATTACKS.items():
        (root / f"test_{name}.py").write_text(textwrap.dedent(source.format(**values)))
    (root / "test_harmless.py").write_text("def test_still_works():\n    assert 1 + 1 == 2\n")
    return root


def check_still_works(sandbox: Sandbox, project: Path, scratch: Path) -> None:
    after = run_file(sandbox, project, "harmless", scratch)
    assert after.outcomes == {"test_still_works": "passed"}, after.reason
    assert after.process.returncode == 0


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


def test_network_is_unreachable(
    backend: Sandbox, project: Path, scratch: Path, listener: socket.socket
) -> None:
    if isinstance(backend, LocalSandbox):
        require_claim(backend, backend.isolation().network, "WITH network access")
    outcome = run_file(backend, project, "network", scratch)
    assert_contained(outcome)
    assert set(outcome.outcomes) == {"test_reach_host_listener", "test_reach_public_address"}
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected to the host's listener
    check_still_works(backend, project, scratch)


def test_fork_bomb_is_contained(backend: Sandbox, project: Path, scratch: Path) -> None:
    if isinstance(backend, LocalSandbox):
        require_claim(backend, backend.process_limit() is not None, "no process limit")
    outcome = run_file(backend, project, "fork_bomb", scratch)
    assert_contained(outcome)
    assert leftover_processes(str(scratch)) == []
    check_still_works(backend, project, scratch)


def test_ten_gigabytes_cannot_be_allocated(backend: Sandbox, project: Path, scratch: Path) -> None:
    outcome = run_file(backend, project, "memory", scratch)
    assert_contained(outcome)
    assert "MemoryError" in outcome.reason or "out of memory" in outcome.reason
    check_still_works(backend, project, scratch)


def test_writing_outside_the_workspace_is_refused(
    backend: Sandbox, project: Path, scratch: Path, tmp_path: Path
) -> None:
    if isinstance(backend, LocalSandbox):
        require_claim(backend, backend.isolation().read_only, "can write anywhere")
    outcome = run_file(backend, project, "write_outside", scratch)
    assert_contained(outcome)
    assert not (tmp_path / "outside" / "escaped.txt").exists()
    check_still_works(backend, project, scratch)


def test_secrets_never_enter(
    backend: Sandbox, project: Path, scratch: Path, secret_holder: int
) -> None:
    if isinstance(backend, LocalSandbox) and not backend.isolation().pid_namespace:
        assert any("read their environment" in warning for warning in backend.warnings())
    # even when the caller passes one on purpose, a secret-named variable is dropped
    outcome = run_file(
        backend, project, "secrets", scratch, env={"GITHUB_TOKEN": SECRET_VALUE, "SAFE": "1"}
    )
    assert_contained(outcome)
    assert outcome.outcomes["test_read_secrets_from_environment"] == "failure"
    if not isinstance(backend, LocalSandbox) or backend.isolation().pid_namespace:
        assert outcome.outcomes["test_read_secrets_of_other_processes"] == "failure"
    assert SECRET_VALUE not in outcome.process.stdout + outcome.process.stderr


@pytest.fixture
def secret_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """mendbot's HOME, holding a private key and git credentials."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{HOME_SECRET}\n")
    (home / ".git-credentials").write_text(f"https://alice:{HOME_SECRET}@example.com\n")
    monkeypatch.setenv("HOME", str(home))
    return home


def test_home_secrets_are_out_of_reach(
    backend: Sandbox, project: Path, scratch: Path, secret_home: Path
) -> None:
    if isinstance(backend, LocalSandbox):
        require_claim(backend, backend.isolation().read_only, "can read the files of your home")
    outcome = run_file(backend, project, "home_secrets", scratch)
    assert_contained(outcome)
    assert set(outcome.outcomes.values()) == {"failure"}, outcome.reason
    assert len(outcome.outcomes) == 3
    assert HOME_SECRET not in outcome.process.stdout + outcome.process.stderr
    check_still_works(backend, project, scratch)


def test_sleeping_forever_times_out(backend: Sandbox, project: Path, scratch: Path) -> None:
    outcome = run_file(backend, project, "sleep_forever", scratch, timeout=SLEEP_TIMEOUT)
    assert outcome.process.timed_out
    assert "wall-clock timeout" in outcome.process.stderr
    assert outcome.outcomes == {}
    assert leftover_processes(str(scratch)) == []
    check_still_works(backend, project, scratch)


def test_killing_the_parent_spares_mendbot(backend: Sandbox, project: Path, scratch: Path) -> None:
    outcome = run_file(backend, project, "kill_parent", scratch)
    assert_contained(outcome)
    os.kill(os.getpid(), 0)  # this process, mendbot's stand-in, is alive and well
    assert leftover_processes(str(scratch)) == []
    check_still_works(backend, project, scratch)


def test_local_run_has_no_direct_child_of_mendbot(project: Path, scratch: Path) -> None:
    """The process running the tests never has mendbot as its parent."""
    (project / "test_parent.py").write_text(
        f"import os\n\ndef test_parent():\n    assert os.getppid() != {os.getpid()}\n"
        "    assert os.getppid() != 0\n"
    )
    outcome = run_file(LocalSandbox(), project, "parent", scratch)
    assert outcome.outcomes == {"test_parent": "passed"}, outcome.reason
