"""The one subprocess helper: argv lists, explicit cwd, env and timeout, never a shell.

Every child runs in its own process group, so a timeout kills the whole group (a test that
forks and loops forever included). Output goes to temporary files, never to pipes that can
fill up, and only the last ``output_limit`` bytes of each stream are kept.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bot.models import ProcessResult

DEFAULT_OUTPUT_LIMIT = 256 * 1024


def _tail(handle: tempfile._TemporaryFileWrapper[bytes], limit: int) -> tuple[str, bool]:
    handle.flush()
    size = handle.seek(0, os.SEEK_END)
    truncated = size > limit
    handle.seek(max(0, size - limit))
    data = handle.read()
    text = data.decode("utf-8", errors="replace")
    if truncated:
        text = f"[... {size - limit} bytes cut ...]\n" + text
    return text, truncated


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a child's whole process group, then reap the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _wait(process: subprocess.Popen[bytes], timeout: float | None) -> int:
    """``process.wait(timeout)``, woken the moment the child exits.

    ``Popen.wait`` with a timeout polls with sleeps of up to 50 ms, which adds about 25 ms to
    every run; a pidfd turns the wait into one ``select`` on Linux.
    """
    if timeout is None or not hasattr(os, "pidfd_open"):
        return process.wait(timeout=timeout)
    try:
        pidfd = os.pidfd_open(process.pid)
    except OSError:  # an old kernel, or the child is already gone
        return process.wait(timeout=timeout)
    try:
        if not select.select([pidfd], [], [], max(0.0, timeout))[0]:
            raise subprocess.TimeoutExpired(process.args, timeout)
    finally:
        os.close(pidfd)
    return process.wait()


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 60.0,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    stdin_text: str | None = None,
    preexec: Callable[[], None] | None = None,
    stdin_fd: int | None = None,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> ProcessResult:
    """Run ``argv`` and return its result; a timeout is a result (``timed_out``), not an error.

    ``stdin_fd`` becomes the child's standard input (for a long-lived child fed through a
    pipe); ``on_start`` receives the started process, so its owner can kill it early.
    """
    if isinstance(argv, str):  # a plain string would be split into characters
        raise TypeError("argv must be a sequence of arguments, not a string")
    started = time.monotonic()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as stdin_file,
    ):
        if stdin_text is not None:
            stdin_file.write(stdin_text.encode())
            stdin_file.seek(0)
        process = subprocess.Popen(
            list(argv),
            cwd=str(cwd),
            env=dict(env) if env is not None else None,
            stdin=stdin_fd
            if stdin_fd is not None
            else stdin_file
            if stdin_text is not None
            else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=preexec,
        )
        timed_out = False
        try:
            if on_start is not None:
                on_start(process)
            returncode = _wait(process, timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(process)
            returncode = process.returncode if process.returncode is not None else -9
        except BaseException:
            kill_group(process)
            raise
        # a test may leave grandchildren behind in its group: never let them outlive the run
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        stdout, cut_out = _tail(out, output_limit)  # type: ignore[arg-type]
        stderr, cut_err = _tail(err, output_limit)  # type: ignore[arg-type]
    return ProcessResult(
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        duration=time.monotonic() - started,
        timed_out=timed_out,
        output_truncated=cut_out or cut_err,
    )


def git(args: Sequence[str], *, cwd: Path, check: bool = True, timeout: float = 120.0) -> str:
    """Run a git command and return stdout (built by ``bot.gitcmd``, as every git call is)."""
    from bot import workspace

    return workspace.run_git(args, cwd, check=check, timeout=timeout)
