"""The first process of a local sandbox run: confine, then start the command and reap.

Run as a script (``python -I -S confine.py SPEC -- ARGV...``), usually as PID 1 of fresh
network, mount and PID namespaces made by ``unshare``. Standard library only, because it runs
before anything else and must not import mendbot. ``SPEC`` is a JSON object:

``writable``   host paths that stay writable; everything else is remounted read-only
               (only when ``read_only`` is true, which needs a private mount namespace);
``read_only``  make the rest of the file system read-only and give /dev/shm a private tmpfs;
``hidden``     folders (the home folders) covered by an empty tmpfs, so nothing in them can be
               read; ``shown`` and ``writable`` paths inside them are bind-mounted back
               (needs a private mount namespace, as ``read_only`` does);
``rlimits``    resource name -> limit, set in the command's process just before it starts;
``loopback``   bring up the loopback interface of the (fresh, empty) network namespace, so
               tests can serve and connect on 127.0.0.1 among themselves; the host's
               loopback and every other network stay out of reach;
``drop_caps``  empty the capability bounding set and set no_new_privs, so a command started
               as root cannot remount, leave its cgroup or regain what was taken;
``cwd``        where the command starts.

The command is a child, never this process itself: a test that kills its parent kills this
reaper (or, as PID 1 of a namespace, cannot kill it at all), never mendbot. When this
process's parent dies (mendbot was killed), it kills its whole process group. When the command
ends, this process exits with its status, which ends every process left in the namespace.
Failures to confine print ``mendbot-confine: ...`` and exit 125 (fail closed).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
KEPT_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CONFINE_FAILED = 125
# pseudo file systems that stay as they are; /proc/sys and /proc/sysrq-trigger are handled apart
UNTOUCHED = ("/proc", "/dev/pts", "/dev/mqueue")
PROTECTED_PROC_FILES = ("/proc/sys", "/proc/sysrq-trigger")
ATIME_OPTIONS = ("noatime", "relatime", "strictatime")


class ConfineError(Exception):
    pass


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    libc = _libc()
    result = libc.mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error), target)


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    out = []
    index = 0
    while index < len(field):
        code = field[index + 1 : index + 4]
        if field[index] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(code, 8)))
            index += 4
        else:
            out.append(field[index])
            index += 1
    return "".join(out)


def mount_points() -> list[tuple[str, int]]:
    """(mount point, per-mount flags to keep) for every mount, in mount order."""
    found: list[tuple[str, int]] = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            options = fields[5].split(",")
            kept = 0
            for option in options:
                kept |= KEPT_FLAGS.get(option, 0)
            if not any(option in ATIME_OPTIONS for option in options):
                kept |= MS_STRICTATIME  # mountinfo shows no atime option for strictatime
            found.append((_unescape(fields[4]), kept))
    return found


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def make_read_only(writable: list[str]) -> None:
    """Everything read-only except ``writable`` (bind-mounted onto themselves first)."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    keep = [os.path.realpath(path) for path in writable]
    for path in keep:
        _mount(path, path, None, MS_BIND | MS_REC, None)
    for path in PROTECTED_PROC_FILES:
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND, None)
    seen: set[str] = set()
    for point, kept in reversed(mount_points()):  # topmost first; one remount per path
        if point in seen or any(_inside(point, path) for path in keep):
            continue
        seen.add(point)
        if any(_inside(point, name) for name in UNTOUCHED) and point not in PROTECTED_PROC_FILES:
            continue
        try:
            _mount("none", point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept, None)
        except OSError as error:
            # a mount this process cannot even reach cannot be written through either
            if not os.path.lexists(point) or error.errno in (2, 13):
                continue
            raise ConfineError(f"cannot make {point} read-only: {error.strerror}") from None
    if os.path.isdir("/dev/shm") and not any(_inside("/dev/shm", path) for path in keep):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")


def hide_folders(hidden: list[str], kept: list[str]) -> None:
    """Cover each of ``hidden`` with an empty tmpfs, then show ``kept`` paths in them again."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    handles: list[tuple[str, int]] = []
    for path in sorted({os.path.realpath(path) for path in kept}, key=len):
        if any(_inside(path, folder) for folder in hidden) and os.path.exists(path):
            handles.append((path, os.open(path, os.O_PATH | os.O_CLOEXEC)))
    for folder in hidden:
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    for path, handle in handles:
        if os.path.isdir(f"/proc/self/fd/{handle}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC, None)
        os.close(handle)


SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IFREQ = "16sh22x"  # struct ifreq: the interface name, then the flags (padded to 40 bytes)


def loopback_up() -> None:
    """Bring up ``lo`` in this network namespace (a new one starts with it down)."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as handle:
        request = struct.pack(IFREQ, b"lo", 0)
        flags = struct.unpack(IFREQ, fcntl.ioctl(handle, SIOCGIFFLAGS, request))[1]
        if not flags & IFF_UP:
            fcntl.ioctl(handle, SIOCSIFFLAGS, struct.pack(IFREQ, b"lo", flags | IFF_UP))


def drop_capabilities() -> None:
    libc = _libc()
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last = int(handle.read())
    except OSError:
        last = 40
    for capability in range(last + 1):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise ConfineError("cannot set no_new_privs")


def set_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        kind = getattr(resource, f"RLIMIT_{name}", None)
        if kind is None:
            continue
        _soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)  # a lower hard limit is kept
        resource.setrlimit(kind, (value, value))


def start(argv: list[str], cwd: str, limits: dict[str, int]) -> int:
    child = os.fork()
    if child == 0:
        try:
            if sys.platform.startswith("linux"):
                _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            os.chdir(cwd)
            set_limits(limits)
            os.execvp(argv[0], argv)
        except BaseException as error:  # the exec failed: report it as the command's failure
            os.write(2, f"mendbot-confine: cannot start {argv[0]}: {error}\n".encode())
        finally:
            os._exit(127)
    return child


def reap(child: int) -> int:
    """Wait for ``child``, reaping everything else that ends meanwhile; return an exit code."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:  # cannot happen while the child is unreaped
            return 1
        except InterruptedError:
            continue
        if pid != child:
            continue
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            os.write(2, f"\nmendbot sandbox: the test process was killed by {name}\n".encode())
            return 128 + number
        return os.waitstatus_to_exitcode(status)


def _parent_died(signum: int, frame: object) -> None:
    """mendbot (or the namespace tool between it and this process) is gone: end the run."""
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)  # this process and everything it started
    finally:
        os._exit(CONFINE_FAILED)


def die_with_parent() -> None:
    """When the parent dies, kill the whole run, not only this process: its children (pytest)
    die with it by their own parent-death signal, but their children would live on."""
    signal.signal(signal.SIGTERM, _parent_died)
    if sys.platform.startswith("linux"):
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def main(arguments: list[str]) -> int:
    if len(arguments) < 3 or arguments[1] != "--":
        os.write(2, b"usage: confine.py SPEC -- ARGV...\n")
        return 2
    die_with_parent()
    spec = json.loads(arguments[0])
    argv = arguments[2:]
    try:
        if spec.get("loopback"):
            try:
                loopback_up()
            except OSError as error:  # a convenience, not a protection: say so and go on
                os.write(2, f"mendbot sandbox: the loopback stays down: {error}\n".encode())
        if spec.get("hidden"):
            writable = list(spec.get("writable", []))
            hide_folders(list(spec["hidden"]), [*spec.get("shown", []), *writable])
        if spec.get("read_only"):
            make_read_only(list(spec.get("writable", [])))
        if spec.get("drop_caps"):
            drop_capabilities()
    except (ConfineError, OSError) as error:
        os.write(2, f"mendbot-confine: {error}\n".encode())
        return CONFINE_FAILED
    limits = {name: int(value) for name, value in spec.get("rlimits", {}).items()}
    child = start(argv, spec.get("cwd", "."), limits)
    return reap(child)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
