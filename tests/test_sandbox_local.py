"""The local sandbox, run for real: environment, rlimits, timeouts, output caps, and what it
says about the isolation this machine grants (including as an unprivileged user)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import SandboxError
from bot.models import ProcessResult
from bot.sandbox.base import Limits, SandboxCommand
from bot.sandbox.local import CONFINE_SCRIPT, LocalSandbox, explain, probe_isolation

REPO = Path(__file__).resolve().parent.parent


def command(root: Path, code: str, **options: object) -> SandboxCommand:
    scratch = root.parent
    return SandboxCommand(
        argv=["{python}", "-c", textwrap.dedent(code)],
        root=root,
        workdir=root,
        result_dir=scratch / "result",
        support_dir=scratch / "support",
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "worktree"
    folder.mkdir()
    (tmp_path / "support").mkdir()
    return folder


def host_processes_mentioning(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_environment_is_scrubbed_and_private(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_local_sentinel")
    monkeypatch.setenv("MY_SERVICE_PASSWORD", "hunter2")
    monkeypatch.setenv("UNRELATED_SETTING", "host-only")
    code = """
        import json, os, tempfile
        print(json.dumps({"env": dict(os.environ), "tmp": tempfile.gettempdir()}))
    """
    extra = {"KEEP_ME": "yes", "DEPLOY_API_KEY": "nope"}
    result = LocalSandbox().run(command(root, code, env=extra))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    env = seen["env"]
    for name in ("GITHUB_TOKEN", "MY_SERVICE_PASSWORD", "UNRELATED_SETTING", "DEPLOY_API_KEY"):
        assert name not in env
    assert env["KEEP_ME"] == "yes"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(root.parent / "support")
    assert seen["tmp"] == env["TMPDIR"]
    assert not Path(seen["tmp"]).exists()  # the private temporary folder went with the run


def test_resource_limits_bind_the_command(root: Path) -> None:
    code = """
        import resource
        names = ("AS", "FSIZE", "CPU", "CORE")
        print({n: resource.getrlimit(getattr(resource, "RLIMIT_" + n))[0] for n in names})
        try:
            open("big.bin", "wb").write(b"x" * (3 * 1024 * 1024))
        except OSError as error:
            print("refused:", error.strerror)
    """
    limits = Limits(memory_mb=1024, file_size_mb=1, cpu_seconds=30)
    result = LocalSandbox().run(command(root, code, limits=limits))
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert eval(first) == {"AS": 1024 * 2**20, "FSIZE": 2**20, "CPU": 30, "CORE": 0}
    assert second == "refused: File too large"
    assert (root / "big.bin").stat().st_size == 2**20


def test_output_is_capped(root: Path) -> None:
    code = "print('y' * 500_000)"
    result = LocalSandbox().run(command(root, code, limits=Limits(output_limit=4096)))
    assert result.output_truncated
    assert len(result.stdout) < 4096 + 100
    assert result.stdout.startswith("[...")


def test_timeout_ends_every_process_of_the_run(root: Path) -> None:
    token = f"mendbot-detached-{os.getpid()}-{root.name}"
    code = f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "{token}"],
                         start_new_session=True)
        time.sleep(300)
    """
    sandbox = LocalSandbox()
    result = sandbox.run(command(root, code, timeout=3))
    assert result.timed_out
    assert "stopped after the 3 s wall-clock timeout" in result.stderr
    if sandbox.isolation().pid_namespace:
        assert host_processes_mentioning(token) == []
    else:
        assert any("outlive the run" in warning for warning in sandbox.warnings())
        for pid in host_processes_mentioning(token):
            os.kill(pid, 9)


def test_without_namespaces_a_killed_parent_is_a_reaper_not_mendbot(root: Path) -> None:
    code = f"""
        import os, signal, time
        assert os.getppid() != {os.getpid()}, "the tests' parent is mendbot"
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(30)
    """
    sandbox = LocalSandbox(isolate=False)
    result = sandbox.run(command(root, code, timeout=20))
    assert not result.timed_out  # the command died with its parent, it did not run on
    assert result.returncode == -9
    assert "killed by SIGKILL" in result.stderr
    again = sandbox.run(command(root, "print('still here')"))
    assert again.stdout.strip() == "still here"


def test_warnings_name_every_missing_protection() -> None:
    bare = LocalSandbox(isolate=False, notes=["docker was not available"])
    warnings = " | ".join(bare.warnings())
    assert "docker was not available" in warnings
    assert "WITH network access" in warnings
    assert "read their environment" in warnings
    assert "can write anywhere" in warnings
    isolation = probe_isolation()
    granted = LocalSandbox().warnings()
    assert (not isolation.network) == any("network" in w for w in granted)
    assert (not isolation.read_only) == any("write anywhere" in w for w in granted)
    assert (not isolation.pid_namespace) == any("/proc" in w for w in granted)


def test_confinement_that_cannot_be_set_up_fails_closed(tmp_path: Path) -> None:
    isolation = probe_isolation()
    if not isolation.read_only or isolation.bubblewrap:
        pytest.skip("this machine grants no mount namespace for confine.py to set up")
    spec = json.dumps(
        {"writable": [str(tmp_path / "no-such-folder")], "read_only": True, "cwd": "/"}
    )
    argv = [*isolation.prefix, sys.executable, "-I", "-S", str(CONFINE_SCRIPT), spec, "--", "true"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert completed.returncode == 125
    assert "mendbot-confine:" in completed.stderr
    result = ProcessResult(completed.returncode, completed.stdout, completed.stderr, 0.1)
    with pytest.raises(SandboxError, match="could not confine"):
        explain(result, 10)


def test_missing_folder_or_interpreter_is_a_clear_error(root: Path) -> None:
    with pytest.raises(SandboxError, match="does not exist"):
        LocalSandbox().run(command(root / "gone", "pass"))
    with pytest.raises(SandboxError, match="could not be started") as caught:
        LocalSandbox(str(root / "no-python")).run(command(root, "pass"))
    assert "--python" in caught.value.hint


UNPRIVILEGED_SCRIPT = """
import json, sys
sys.path.insert(0, {repo!r})
from pathlib import Path
from bot.sandbox.base import SandboxCommand
from bot.sandbox.local import LocalSandbox
root = Path({root!r})
code = '''
import os, socket
out = {{"uid": os.getuid()}}
try:  # the namespace's own loopback is up, but nothing beyond it exists
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    out["network"] = "connected"
except OSError as error:
    out["network"] = error.strerror
try:
    open({marker!r}, "w").write("x")
    out["outside"] = "written"
except OSError as error:
    out["outside"] = error.strerror
print(out)
'''
sandbox = LocalSandbox()
result = sandbox.run(SandboxCommand(argv=["{{python}}", "-c", code], root=root, workdir=root,
                                    result_dir=root / "result", support_dir=root))
isolation = sandbox.isolation()
print(json.dumps({{"mechanism": isolation.mechanism, "read_only": isolation.read_only,
                  "network": isolation.network, "warnings": list(sandbox.warnings()),
                  "stdout": result.stdout, "stderr": result.stderr}}))
"""


def _unprivileged_python() -> list[str] | None:
    """An argv prefix running a Python that imports mendbot as user nobody, if any."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return None
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    for python in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run(
            [
                *prefix,
                python,
                "-c",
                f"import os, sys; sys.path.insert(0, {str(REPO)!r}); "
                "import bot.sandbox.local; assert os.access(sys.executable, os.X_OK)",
            ],
            capture_output=True,
            timeout=30,
            cwd="/",
        )
        if probe.returncode == 0:
            return [*prefix, python]
    return None


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary folder every user can reach (pytest's own is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="mendbot-unprivileged-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_an_unprivileged_user_gets_what_it_is_told(shared_tmp: Path) -> None:
    prefix = _unprivileged_python()
    if prefix is None:
        pytest.skip("needs root, setpriv and a Python that user nobody can run with mendbot")
    tmp_path = shared_tmp
    root = tmp_path / "worktree"
    root.mkdir(mode=0o777)
    root.chmod(0o777)
    marker = tmp_path / "outside.txt"
    script = UNPRIVILEGED_SCRIPT.format(repo=str(REPO), root=str(root), marker=str(marker))
    completed = subprocess.run(
        [*prefix, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.splitlines()[-1])
    seen = eval(report["stdout"].strip())
    assert seen["uid"] in (0, 65534)  # root of its own user namespace, or plain nobody
    if report["network"]:
        assert seen["network"] == "Network is unreachable"
    else:
        assert any("WITH network access" in w for w in report["warnings"])
    if report["read_only"]:
        assert seen["outside"] == "Read-only file system"
        assert not marker.exists()
    else:
        assert any("write anywhere" in w for w in report["warnings"])


def test_cgroups_left_by_a_dead_mendbot_are_swept() -> None:
    from bot.sandbox.local import PidsCgroup

    parent = PidsCgroup.parent()
    if parent is None:
        pytest.skip("no pids cgroup here (not root, or no pids controller)")
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = parent / f"mendbot-run-{finished.stdout.strip()}-1"
    stale.mkdir()
    PidsCgroup.parent.cache_clear()
    assert PidsCgroup.parent() == parent
    assert not stale.exists()


def test_a_virtualenvs_own_site_packages_are_among_the_folders_its_interpreter_needs(
    tmp_path: Path,
) -> None:
    """Asked without site (-I -S), a virtualenv's interpreter names only its base prefix; its
    own site-packages must be shown again under a hidden home all the same."""
    from bot.sandbox.local import interpreter_paths

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert os.path.realpath(site_packages) in interpreter_paths(str(python))
