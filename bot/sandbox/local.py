"""The local process sandbox: the tests run as a child of a small confining process.

Each run starts ``confine.py`` (a reaper and confiner) which starts the command. Where the OS
allows it, ``unshare`` (or bubblewrap) first gives that process its own namespaces:

* network: only a loopback of its own (brought up, so tests can serve and connect on
  127.0.0.1 among themselves), so nothing outside can be reached, the host's 127.0.0.1
  included;
* PID (with its own /proc): the tests see neither mendbot nor any other host process, cannot
  signal them or read their environment, and everything they start ends with the run;
* mount: the whole file system is read-only except the worktree, the result folder and a
  private temporary folder (``TMPDIR``); /dev/shm is a private tmpfs; the home folders
  (mendbot's ``HOME``, /root and /home) are hidden under an empty tmpfs, so keys, credentials
  and tokens kept there (``~/.ssh``, ``~/.git-credentials``, ``~/.netrc``, ``~/.aws`` ...) are
  out of reach; only what the interpreter needs of them (its own folders and ``sys.path``) is
  shown again, read-only.

Always: a scrubbed environment (no tokens) with an empty ``HOME`` and ``XDG_*`` folders of the
run's own, rlimits (address space, file size, CPU time, no
core files), a process limit (``RLIMIT_NPROC`` inside a user namespace, a pids cgroup as root,
where root ignores ``RLIMIT_NPROC``), all capabilities dropped with no_new_privs, the command
never a direct child of mendbot, a wall-clock timeout that kills the whole process group, and
capped output.

What the OS refuses is probed once per process; :meth:`LocalSandbox.warnings` names every
protection that is missing (for example where unprivileged user namespaces are restricted, as
on Ubuntu 24.04). The tests may write inside the worktree; use the docker sandbox when nothing
they write may stay.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import proc
from bot.errors import SandboxError
from bot.models import ProcessResult
from bot.sandbox.base import PYTHON_PLACEHOLDER, Limits, SandboxCommand

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|_KEY$|CREDENTIAL|AUTH)", re.I)
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "VIRTUAL_ENV", "TERM")
HOME_FOLDERS = ("/root", "/home")  # hidden from the tests along with mendbot's own HOME
XDG_FOLDERS = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
}
CONFINE_SCRIPT = Path(__file__).with_name("confine.py")
CONFINE_FAILED = 125  # confine.py's exit status when it cannot confine
CANNOT_START = 127  # confine.py's exit status when the command cannot be started
MB = 1024 * 1024


def without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without any variable whose name looks like a credential."""
    return {name: value for name, value in env.items() if not SECRET_NAME.search(name)}


def scrubbed_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment the code under test sees: a short allow-list, never a secret."""
    env = {name: os.environ[name] for name in KEEP_ENV if name in os.environ}
    env.update(extra)
    return without_secrets(env)


@dataclass(frozen=True)
class Isolation:
    """Which protections this machine grants the local sandbox (probed once)."""

    mechanism: str  # "unshare", "unshare --map-root-user", "bwrap" or "none"
    prefix: tuple[str, ...] = ()  # argv prefix that creates the namespaces (not for bwrap)
    network: bool = False  # no network at all
    pid_namespace: bool = False  # host processes invisible; leftovers die with the run
    read_only: bool = False  # everything outside the workspace is read-only
    user_namespace: bool = False  # runs as a mapped user: RLIMIT_NPROC counts only the run

    @property
    def bubblewrap(self) -> bool:
        return self.mechanism == "bwrap"


ALL_NAMESPACES = ("--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc")


def _unshare_candidates(
    unshare: str, flag_sets: Sequence[tuple[str, ...]]
) -> list[tuple[tuple[str, ...], bool]]:
    """(prefix, in a user namespace) pairs, the strongest first; as root without one first."""
    users: list[tuple[tuple[str, ...], bool]] = [((), False)] if os.geteuid() == 0 else []
    users.append((("--map-root-user",), True))
    return [
        ((unshare, *user_flags, *flags), mapped)
        for flags in flag_sets
        for user_flags, mapped in users
    ]


def _confine_argv(spec: Mapping[str, object], argv: Sequence[str]) -> list[str]:
    return [sys.executable, "-I", "-S", str(CONFINE_SCRIPT), json.dumps(dict(spec)), "--", *argv]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def hidden_folders() -> list[str]:
    """The home folders the tests must not see: mendbot's HOME, the user's, /root and /home."""
    found: list[str] = []
    for candidate in (os.environ.get("HOME", ""), _password_home(), *HOME_FOLDERS):
        if not candidate:
            continue
        folder = os.path.realpath(candidate)
        if folder != "/" and os.path.isdir(folder):
            found.append(folder)
    outer = sorted(set(found), key=len)
    return [f for i, f in enumerate(outer) if not any(_inside(f, o) for o in outer[:i])]


def _password_home() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError):
        return ""


# Asked of the interpreter with -I -S: nothing of the environment's site (no .pth file runs);
# the paths .pth files add are read from them as site would, without executing anything.
INTERPRETER_PATHS = """
import json, os, site, sys
# without site, a virtualenv's interpreter knows only its base prefix: its own is the folder
# above bin/ that holds pyvenv.cfg
venv = os.path.dirname(os.path.dirname(os.path.abspath(sys.executable)))
prefixes = [venv] if os.path.isfile(os.path.join(venv, "pyvenv.cfg")) else []
folders = [*site.getsitepackages([*prefixes, sys.prefix]), site.getusersitepackages()]
found = [sys.executable, *prefixes, sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]
found += folders
for folder in folders:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        continue
    for name in names:
        if not name.endswith(".pth"):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            line = line.strip()
            if line and not line.startswith(("#", "import ", "import\t")):
                found.append(os.path.join(folder, line))
print(json.dumps(found))
"""


@functools.cache
def interpreter_paths(python: str) -> tuple[str, ...]:
    """The folders ``python`` needs to start and import: its prefixes, ``sys.path``, its
    site-packages and the folders their ``.pth`` files name."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    found = [python, os.path.dirname(python), os.path.realpath(python)]
    with contextlib.suppress(OSError, ValueError):
        argv = [python, "-I", "-S", "-c", INTERPRETER_PATHS]
        result = proc.run(argv, cwd=Path("/"), env=env, timeout=30)
        if result.returncode == 0:
            found += [str(item) for item in json.loads(result.stdout) if item]
    return tuple(dict.fromkeys(os.path.realpath(path) for path in found if path))


def shown_again(hidden: Sequence[str], needed: Sequence[str]) -> list[str]:
    """Those of ``needed`` that lie in a hidden folder and exist, outermost first."""
    inside = {
        path
        for path in needed
        if os.path.isabs(path)
        and os.path.exists(path)
        and any(_inside(path, folder) and path != folder for folder in hidden)
    }
    ordered = sorted(inside, key=len)
    return [p for i, p in enumerate(ordered) if not any(_inside(p, o) for o in ordered[:i])]


def _bwrap_prefix(
    bwrap: str, writable: Sequence[Path], hidden: Sequence[str] = (), shown: Sequence[str] = ()
) -> list[str]:
    argv = [bwrap, "--unshare-net", "--unshare-pid", "--die-with-parent"]
    argv += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/dev/shm"]
    for folder in hidden:
        argv += ["--tmpfs", folder]
    for needed in shown:
        argv += ["--ro-bind", needed, needed]
    for path in writable:
        argv += ["--bind", str(path), str(path)]
    if os.geteuid() == 0:
        argv += ["--cap-drop", "ALL"]
    return argv


def _probe_succeeds(prefix: Sequence[str], read_only: bool, scratch: Path) -> bool:
    true = shutil.which("true") or "/bin/true"
    spec = {"writable": [str(scratch)], "read_only": read_only, "drop_caps": True, "cwd": "/"}
    result = proc.run([*prefix, *_confine_argv(spec, [true])], cwd=Path("/"), timeout=20)
    return result.returncode == 0 and not result.timed_out


@functools.cache
def bubblewrap_isolation() -> Isolation | None:
    """Bubblewrap's namespaces, when it is installed and works here."""
    bwrap = shutil.which("bwrap")
    if bwrap is None or not sys.platform.startswith("linux"):
        return None
    with tempfile.TemporaryDirectory(prefix="mendbot-probe-") as folder:
        if _probe_succeeds(_bwrap_prefix(bwrap, [Path(folder)]), False, Path(folder)):
            return Isolation("bwrap", (), True, True, True, os.geteuid() != 0)
    return None


def namespace_refusal() -> str:
    """Why this machine refuses namespaces, where a known switch says so."""
    switches = {
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": (
            "1",
            "AppArmor restricts unprivileged user namespaces "
            "(kernel.apparmor_restrict_unprivileged_userns=1, as on Ubuntu 24.04)",
        ),
        "/proc/sys/kernel/unprivileged_userns_clone": (
            "0",
            "unprivileged user namespaces are off (kernel.unprivileged_userns_clone=0)",
        ),
        "/proc/sys/user/max_user_namespaces": (
            "0",
            "user namespaces are off (user.max_user_namespaces=0)",
        ),
    }
    for path, (value, reason) in switches.items():
        with contextlib.suppress(OSError):
            if os.geteuid() != 0 and Path(path).read_text().strip() == value:
                return reason
    if not shutil.which("unshare") and not shutil.which("bwrap"):
        return "neither unshare nor bubblewrap is installed"
    return "the OS refuses the namespaces it needs (unshare and bubblewrap were tried)"


@functools.cache
def probe_isolation() -> Isolation:
    """The strongest isolation this process may use, found by trying each in turn."""
    if not sys.platform.startswith("linux"):
        return Isolation("none")
    with tempfile.TemporaryDirectory(prefix="mendbot-probe-") as folder:
        scratch = Path(folder)
        unshare = shutil.which("unshare")
        for prefix, mapped in _unshare_candidates(unshare, [ALL_NAMESPACES]) if unshare else []:
            if _probe_succeeds(prefix, True, scratch):
                name = "unshare --map-root-user" if mapped else "unshare"
                return Isolation(name, prefix, True, True, True, mapped)
        bubblewrap = bubblewrap_isolation()
        if bubblewrap is not None:
            return bubblewrap
        partial = [ALL_NAMESPACES, ("--net",)]
        for prefix, mapped in _unshare_candidates(unshare, partial) if unshare else []:
            if _probe_succeeds(prefix, False, scratch):
                name = "unshare --map-root-user" if mapped else "unshare"
                pid = "--pid" in prefix
                return Isolation(name, prefix, True, pid, False, mapped)
    return Isolation("none")


class PidsCgroup:
    """Per-run cgroups with a ``pids.max``, for root (whom ``RLIMIT_NPROC`` does not bind)."""

    @staticmethod
    @functools.cache
    def parent() -> Path | None:
        """A cgroup folder this process may create children with a pids limit in."""
        if os.geteuid() != 0 or not sys.platform.startswith("linux"):
            return None
        for folder in PidsCgroup._candidates():
            PidsCgroup._sweep(folder)
            probe = folder / f"mendbot-probe-{os.getpid()}"
            try:
                probe.mkdir()
            except OSError:
                continue
            try:
                (probe / "pids.max").write_text("16")
                return folder
            except OSError:
                continue
            finally:
                with contextlib.suppress(OSError):
                    probe.rmdir()
        return None

    @staticmethod
    def _sweep(parent: Path) -> None:
        """Remove the empty cgroups of runs whose mendbot process died before cleaning up."""
        with contextlib.suppress(OSError):
            for folder in parent.glob("mendbot-run-*"):
                owner = folder.name.split("-")[2]
                if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # fails, harmlessly, while processes are left in it

    @staticmethod
    def _candidates() -> list[Path]:
        own: dict[str, str] = {}
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                _number, controllers, path = line.split(":", 2)
                own[controllers] = path
        found: list[Path] = []
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/mountinfo").read_text().splitlines():
                before, _dash, after = line.partition(" - ")
                point = before.split()[4]
                fstype, _source, options = [*after.split(), "", "", ""][:3]
                if fstype == "cgroup" and "pids" in options.split(","):
                    path = next((p for c, p in own.items() if "pids" in c.split(",")), "/")
                    found.append(Path(point) / path.lstrip("/"))
                elif fstype == "cgroup2" and "" in own:
                    found.append(Path(point) / own[""].lstrip("/"))
        return found

    @staticmethod
    def create(limit: int) -> Path | None:
        parent = PidsCgroup.parent()
        if parent is None:
            return None
        folder = parent / f"mendbot-run-{os.getpid()}-{time.monotonic_ns()}"
        try:
            folder.mkdir()
            (folder / "pids.max").write_text(str(limit))
        except OSError:
            PidsCgroup.remove(folder)
            return None
        return folder

    @staticmethod
    def remove(folder: Path) -> None:
        """Kill whatever is left in the cgroup, then remove it."""
        for _attempt in range(250):  # the namespace's processes may take a moment to go
            try:
                pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                pids = []
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            try:
                folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once in mendbot (never in a freshly forked child)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function


def _starter(cgroup: Path | None) -> Callable[[], None]:
    """What the sandbox's first process does between fork and exec: die with mendbot, and join
    ``cgroup`` before it starts anything (so before any namespace).

    The parent-death signal is sent when the *thread* that forked the child ends; mendbot
    waits for every sandbox process in the thread that started it, so that thread outlives
    it. Should mendbot die between the fork and the prctl, the parent is already another
    process: the child then ends at once instead of running unowned.
    """
    procs = os.fsencode(cgroup / "cgroup.procs") if cgroup else None
    prctl = _prctl()
    parent = os.getpid()

    def start() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:
                os._exit(CONFINE_FAILED)
        if procs is not None:
            handle = os.open(procs, os.O_WRONLY)
            try:
                os.write(handle, b"0")
            finally:
                os.close(handle)

    return start


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += 1
    return count


class LocalSandbox:
    name = "local"
    # a command may run on beside mendbot, fed through its standard input (the screening
    # worker): the tree it runs on is the worktree itself, not a copy made per command
    persistent_workers = True

    def __init__(
        self,
        python: str | None = None,
        *,
        isolate: bool = True,
        isolation: Isolation | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        """``isolate=False`` skips namespaces (rlimits and the rest stay); ``isolation`` picks
        one instead of the strongest probed (for example ``bubblewrap_isolation()``);
        ``notes`` are extra warnings to pass on (for example why docker was not used)."""
        self.python = python or sys.executable
        self.isolate = isolate
        self._isolation = isolation
        self.notes = tuple(notes)

    def isolation(self) -> Isolation:
        if not self.isolate:
            return Isolation("none")
        return self._isolation or probe_isolation()

    def process_limit(self) -> str | None:
        """How the number of processes is limited: "cgroup", "rlimit" or None."""
        if os.geteuid() == 0:
            return "cgroup" if PidsCgroup.parent() is not None else None
        return "rlimit"

    def warnings(self) -> Sequence[str]:
        isolation = self.isolation()
        found = list(self.notes)
        reason = "namespaces are turned off" if not self.isolate else namespace_refusal()
        if not isolation.network:
            found.append(
                f"local sandbox: tests run WITH network access: {reason}; "
                "use --sandbox docker for full isolation"
            )
        if not isolation.pid_namespace:
            found.append(
                "local sandbox: tests can see and signal mendbot's other processes and read "
                "their environment through /proc, and processes they detach can outlive the run"
            )
        if not isolation.read_only:
            found.append(
                "local sandbox: tests can write anywhere the mendbot user can write "
                "(no read-only mount namespace)"
            )
            found.append(
                "local sandbox: tests can read the files of your home folder (~/.ssh, "
                "~/.git-credentials, ~/.netrc ...) by their full path (no mount namespace to "
                "hide it); mendbot redacts secret shapes from what it prints and stores, but use "
                "--sandbox docker to keep them out of reach"
            )
        if self.process_limit() is None:
            found.append(
                "local sandbox: no process limit (root ignores RLIMIT_NPROC and no pids cgroup "
                "could be made): a fork bomb is stopped only by the wall-clock timeout"
            )
        return tuple(found)

    def _rlimits(self, limits: Limits, isolation: Isolation) -> dict[str, int]:
        found = {
            "AS": limits.memory_mb * MB,
            "FSIZE": limits.file_size_mb * MB,
            "CPU": limits.cpu_seconds,
            "CORE": 0,
        }
        if os.geteuid() != 0:
            if isolation.user_namespace:
                found["NPROC"] = limits.processes  # counts only this run's processes
            else:  # counts every process of this user: leave room for those that exist
                found["NPROC"] = _user_process_count() + limits.processes
        return found

    def _environment(self, command: SandboxCommand, scratch: Path) -> dict[str, str]:
        env = scrubbed_environment(command.env)
        support = str(command.support_dir)
        env["PYTHONPATH"] = os.pathsep.join(
            [support, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
        )
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        env["TMPDIR"] = str(scratch)
        home = scratch / "home"  # an empty home of the run's own, as in the docker sandbox
        env["HOME"] = str(home)
        for name, relative in XDG_FOLDERS.items():
            env[name] = str(home / relative)
            (home / relative).mkdir(parents=True, exist_ok=True)
        return env

    def _hiding(
        self, command: SandboxCommand, env: Mapping[str, str]
    ) -> tuple[list[str], list[str]]:
        """(home folders to hide, paths inside them to show again read-only) for a run."""
        hidden = hidden_folders()
        needed = [
            *interpreter_paths(self.python),
            str(command.support_dir),
            *env.get("PYTHONPATH", "").split(os.pathsep),
            *(part for part in command.argv if os.path.isabs(part)),
        ]
        return hidden, shown_again(hidden, [os.path.realpath(path) for path in needed if path])

    def run(self, command: SandboxCommand) -> ProcessResult:
        if not command.workdir.is_dir() or not command.root.is_dir():
            raise SandboxError(
                f"cannot run the tests in {command.workdir}: the folder does not exist",
                hint="check the project path",
            )
        isolation = self.isolation()
        argv = [self.python if part == PYTHON_PLACEHOLDER else part for part in command.argv]
        command.result_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="mendbot-sandbox-tmp-"))
        writable = [path.resolve() for path in (command.root, command.result_dir, scratch)]
        env = self._environment(command, scratch)
        hidden, shown = self._hiding(command, env) if isolation.read_only else ([], [])
        cgroup = PidsCgroup.create(command.limits.processes) if os.geteuid() == 0 else None
        spec = {
            "writable": [str(path) for path in writable],
            "read_only": isolation.read_only and not isolation.bubblewrap,
            "hidden": hidden if not isolation.bubblewrap else [],
            # bubblewrap brings the loopback up itself
            "loopback": isolation.network and not isolation.bubblewrap,
            "shown": shown if not isolation.bubblewrap else [],
            "drop_caps": sys.platform.startswith("linux"),
            "cwd": str(command.workdir.resolve()),
            "rlimits": self._rlimits(command.limits, isolation),
        }
        if isolation.bubblewrap:
            prefix = _bwrap_prefix(shutil.which("bwrap") or "bwrap", writable, hidden, shown)
        else:
            prefix = list(isolation.prefix)
        try:
            result = proc.run(
                [*prefix, *_confine_argv(spec, argv)],
                cwd=command.workdir,
                env=env,
                timeout=command.timeout,
                output_limit=command.limits.output_limit,
                preexec=_starter(cgroup),
                stdin_fd=command.stdin_fd,
                on_start=command.on_start,
            )
        finally:
            if cgroup is not None:
                PidsCgroup.remove(cgroup)
            shutil.rmtree(scratch, ignore_errors=True)
        return explain(result, command.timeout)


def explain(result: ProcessResult, timeout: float) -> ProcessResult:
    """Add the reason a run ended abnormally to its stderr; raise when it could not start."""
    said = [line for line in result.stderr.splitlines() if line.startswith("mendbot-confine:")]
    if result.returncode == CONFINE_FAILED and said:
        raise SandboxError(
            f"the local sandbox could not confine the tests: {said[0]}",
            hint="use --sandbox docker, or report this with the output of `mendbot sandbox status`",
        )
    if result.returncode == CANNOT_START and said and "cannot start" in said[0]:
        raise SandboxError(
            f"the tests could not be started: {said[0].removeprefix('mendbot-confine: ')}",
            hint="check the interpreter (--python, or python in [tool.mendbot])",
        )
    if result.timed_out:
        note = f"\nmendbot sandbox: stopped after the {timeout:g} s wall-clock timeout\n"
        return dataclasses.replace(result, stderr=result.stderr + note)
    # negative: the direct child died of a signal; 129-159: a wrapper reported that it did
    number = -result.returncode if result.returncode < 0 else result.returncode - 128
    if (result.returncode < 0 or 128 < result.returncode < 160) and "mendbot" not in result.stderr:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        note = f"\nmendbot sandbox: the sandboxed process was killed by {name}\n"
        return dataclasses.replace(result, stderr=result.stderr + note)
    return result
