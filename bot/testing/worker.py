"""The persistent screening worker: one pytest start-up per tree, not one per batch.

``mendbot_pytest --mendbot-serve=DIR`` collects the suite once and then screens batch after
batch (see ``mendbot_pytest._serve``). This side starts it in the sandbox on a thread of its
own, hands it batches (``batch-N.json`` in DIR and the line ``N`` on its standard input) and
reads what it wrote back. A worker belongs to one tree (``tag``, the tree's id): once the
tree changes it is closed, and the next batch starts a new one.

Closing the pipe ends the worker; so does mendbot dying, since the pipe closes with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.models import ProcessResult
from bot.sandbox.base import Sandbox, SandboxCommand

POLL_SECONDS = 0.002
LIFETIME = 3600.0  # the sandbox's wall-clock limit for a worker nobody closed


def supports_workers(sandbox: Sandbox) -> bool:
    return bool(getattr(sandbox, "persistent_workers", False))


def read_results(out: Path) -> dict[int, dict[str, Any]]:
    """Screening results by candidate position, from a worker's JSON-lines file."""
    results: dict[int, dict[str, Any]] = {}
    if not out.exists():
        return results
    for line in out.read_text().splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and "index" in item:
            results[int(item.pop("index"))] = item
    return results


class ScreenWorker:
    """One running ``--mendbot-serve`` worker."""

    def __init__(
        self,
        sandbox: Sandbox,
        folder: Path,
        tag: str,
        make_command: Callable[[Sequence[str], Path, float], SandboxCommand],
        argv: Sequence[str],
    ) -> None:
        self.sandbox = sandbox
        self.folder = folder
        self.tag = tag
        self.batches = 0
        self.was_ready = False  # it collected and waited for batches at some point
        self.result: ProcessResult | None = None
        self.failure: BaseException | None = None
        self._process: Any = None
        self._finished = threading.Event()
        read_fd, self._write_fd = os.pipe()
        command = make_command([*argv, f"--mendbot-serve={folder}"], folder, LIFETIME)
        command = SandboxCommand(
            argv=command.argv,
            root=command.root,
            workdir=command.workdir,
            result_dir=command.result_dir,
            support_dir=command.support_dir,
            env=command.env,
            timeout=command.timeout,
            limits=command.limits,
            stdin_fd=read_fd,
            on_start=self._started,
        )
        self._thread = threading.Thread(
            target=self._serve, args=(command, read_fd), name="mendbot-worker", daemon=True
        )
        self._thread.start()

    def _started(self, process: Any) -> None:
        self._process = process

    def _serve(self, command: SandboxCommand, read_fd: int) -> None:
        try:
            self.result = self.sandbox.run(command)
        except BaseException as error:  # reported by the first batch that needs the worker
            self.failure = error
        finally:
            os.close(read_fd)
            self._finished.set()

    @property
    def alive(self) -> bool:
        return not self._finished.is_set()

    def error(self) -> str:
        """Why the worker is not there to screen, in a line or two."""
        if self.failure is not None:
            return f"the screening worker could not start: {self.failure}"
        if self.result is None:
            return "the screening worker is not running"
        if self.result.timed_out:
            return "the screening worker ran past its time limit"
        tail = (self.result.stdout + self.result.stderr).strip()
        return tail[-2000:] or f"the screening worker exited ({self.result.returncode})"

    def wait_ready(self, timeout: float) -> bool:
        """Whether the worker finished collecting and waits for batches."""
        deadline = time.monotonic() + timeout
        ready = self.folder / "ready"
        while not ready.exists():
            if not self.alive or time.monotonic() > deadline:
                return False
            time.sleep(POLL_SECONDS)
        self.was_ready = True
        return self.alive

    def submit(
        self, batch: Mapping[str, Any], timeout: float
    ) -> tuple[dict[int, dict[str, Any]], str]:
        """Screen one batch; returns results by position and any worker error."""
        if not self.wait_ready(timeout):
            return {}, self.error() if not self.alive else "the screening worker did not start"
        self.batches += 1
        number = self.batches
        pending = self.folder / f"batch-{number}.json.tmp"
        pending.write_text(json.dumps(batch))
        pending.rename(self.folder / f"batch-{number}.json")
        out = self.folder / f"out-{number}.jsonl"
        done = self.folder / f"done-{number}"
        try:
            if self._write_fd < 0:
                raise OSError("closed")
            os.write(self._write_fd, f"{number}\n".encode())
        except OSError:
            return {}, self.error()
        deadline = time.monotonic() + timeout
        while not done.exists():
            if not self.alive:
                return read_results(out), self.error()
            if time.monotonic() > deadline:
                self.kill()
                return read_results(out), "the screening worker ran past its time limit"
            time.sleep(POLL_SECONDS)
        error_file = Path(str(out) + ".error")
        error = error_file.read_text()[-2000:] if error_file.exists() else ""
        return read_results(out), error

    def kill(self) -> None:
        process = self._process
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        self._thread.join(timeout=10)

    def close(self) -> None:
        """End the worker: end of input lets it finish; a worker that does not is killed."""
        if self._write_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._write_fd)
            self._write_fd = -1
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            self.kill()
