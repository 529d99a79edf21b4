"""Run history: every run is stored in git, so it can be listed, replayed and compared later.

While a run is going, its JSONL trace grows in ``<git-common-dir>/mendbot/runs/<run_id>/``.
When it ends (fixed, not fixed, failed or interrupted) the run becomes a commit object under
``refs/mendbot/runs/<run_id>`` whose tree holds three files:

- ``run.json``: the facts a listing needs (status, trigger, base, branch, rounds, times);
- ``result.json``: the machine-readable result (``bot.report.summary.result_to_json``);
- ``trace.jsonl``: the trace, redacted once more and bounded in size.

The commit's parents are the run's last good commit and every rolled-back attempt, so one
``git fetch origin 'refs/mendbot/*:refs/mendbot/*'`` brings a CI run with all of its diffs
into a clone. A run folder without a ref is a run that is still going, or one that was killed
before it could be stored: it is listed as running or interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from bot import __version__, gitcmd
from bot.errors import ConfigError, MendbotError, RepositoryError
from bot.models import RunResult
from bot.trace import known_secrets, read_trace, redact
from bot.workspace import REJECTED_PREFIX, RUNS_PREFIX, place

FORMAT = 1
MAX_STORED_TRACE_BYTES = 4 * 1024 * 1024
MAX_STORED_RESULT_BYTES = 2 * 1024 * 1024
MAX_FIELD_CHARS = 20_000
SHORT_FIELD_CHARS = 2_000
READ_LIMIT = 64 * 1024 * 1024
# events a report cannot do without; others (single candidates, model prompts) go first
ESSENTIAL_EVENTS = frozenset(
    {
        "run_start",
        "baseline",
        "analysis",
        "verify",
        "round",
        "run_end",
        "run_interrupted",
        "run_error",
        "trace_truncated",
    }
)
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
INTERRUPTED = "interrupted"
RUNNING = "running"
ERROR = "error"


# -- where runs live -----------------------------------------------------------------------
def _git(
    args: Sequence[str],
    cwd: Path,
    *,
    stdin: str | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> str:
    result = gitcmd.run(args, place(cwd), env=env, output_limit=READ_LIMIT, stdin_text=stdin)
    if check and (result.returncode != 0 or result.timed_out):
        detail = (result.stderr or result.stdout).strip()
        raise RepositoryError(f"git {' '.join(args[:2])} failed: {detail}")
    return result.stdout


def repository_top(path: Path) -> Path:
    """The top folder of the repository holding ``path``, with a clear error otherwise."""
    if not path.exists():
        raise RepositoryError(f"{path} does not exist", hint="give a folder inside a repository")
    folder = path if path.is_dir() else path.parent
    result = gitcmd.run(["rev-parse", "--show-toplevel"], place(folder), timeout=60)
    if result.returncode != 0 or not result.stdout.strip():
        raise RepositoryError(
            f"{path.resolve()} is not inside a git repository",
            hint="run this in the repository mendbot repaired (or pass its path)",
        )
    return Path(result.stdout.strip())


def runs_folder(top: Path) -> Path:
    """``<git-common-dir>/mendbot/runs``: shared by all worktrees, never part of the tree."""
    common = Path(_git(["rev-parse", "--git-common-dir"], top).strip())
    if not common.is_absolute():
        common = (top / common).resolve()
    return common / "mendbot" / "runs"


def run_ref(run_id: str) -> str:
    return f"{RUNS_PREFIX}/{run_id}"


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID.match(run_id) or ".." in run_id or run_id.endswith(".lock"):
        raise ConfigError(
            f"{run_id!r} is not a run id",
            hint="run ids look like 20250101T120000-ab12cd; `mendbot runs` lists them",
        )


# -- keeping secrets out and sizes bounded ---------------------------------------------------
def scrub(value: Any, secrets: Sequence[str], max_chars: int = MAX_FIELD_CHARS) -> Any:
    """``value`` with every string redacted and cut to ``max_chars``."""
    if isinstance(value, str):
        text = redact(value, secrets)
        if len(text) > max_chars:
            return text[:max_chars] + f"[... {len(text) - max_chars} chars cut]"
        return text
    if isinstance(value, Mapping):
        return {redact(str(k), secrets): scrub(v, secrets, max_chars) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, secrets, max_chars) for v in value]
    return value


def _lines(records: Iterable[Mapping[str, Any]]) -> list[str]:
    return [json.dumps(r, default=str, ensure_ascii=False) + "\n" for r in records]


def bounded_trace(
    records: Sequence[Mapping[str, Any]],
    secrets: Sequence[str],
    limit: int = MAX_STORED_TRACE_BYTES,
) -> tuple[str, bool]:
    """The JSONL text to store, redacted and at most ``limit`` bytes; True when it was cut.

    Long strings are shortened first; then records that are not essential to a report (single
    candidates, model prompts and replies) are dropped from the end; the essential ones stay
    as long as they fit, and a ``trace_truncated`` record says how much went.
    """
    lines = _lines(scrub(r, secrets) for r in records)
    if sum(len(line.encode()) for line in lines) <= limit:
        return "".join(lines), False
    short = [scrub(r, secrets, SHORT_FIELD_CHARS) for r in records]
    lines = _lines(short)
    sizes = [len(line.encode()) for line in lines]
    reserve = 512
    budget = limit - reserve
    essential = [i for i, r in enumerate(short) if r.get("event") in ESSENTIAL_EVENTS]
    keep: set[int] = set()
    used = 0
    for index in essential:
        if used + sizes[index] > budget:
            break
        keep.add(index)
        used += sizes[index]
    for index in range(len(short)):
        if index in keep or short[index].get("event") in ESSENTIAL_EVENTS:
            continue
        if used + sizes[index] > budget:
            continue
        keep.add(index)
        used += sizes[index]
    kept = [lines[i] for i in sorted(keep)]
    dropped = len(lines) - len(kept)
    marker = {
        "t": short[-1].get("t") if short else None,
        "event": "trace_truncated",
        "dropped_records": dropped,
        "limit_bytes": limit,
    }
    return "".join(kept) + _lines([marker])[0], True


def _bounded_json(data: Mapping[str, Any], secrets: Sequence[str], limit: int) -> str:
    text = json.dumps(scrub(data, secrets), indent=1, default=str, ensure_ascii=False)
    if len(text.encode()) <= limit:
        return text + "\n"
    smaller = dict(scrub(data, secrets, SHORT_FIELD_CHARS))
    smaller["extra"] = {"cut": "the result was too large to store in full"}
    text = json.dumps(smaller, indent=1, default=str, ensure_ascii=False)
    if len(text.encode()) <= limit:
        return text + "\n"
    kept = ("status", "reason", "run_id", "base", "branch", "head", "project", "duration_s")
    essential = {key: smaller.get(key) for key in kept}
    essential["cut"] = "the result was too large to store; its trace holds the details"
    return json.dumps(essential, indent=1, default=str, ensure_ascii=False) + "\n"


# -- storing -----------------------------------------------------------------------------------
def _first(events: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    return next((e for e in events if e.get("event") == name), {})


def _last(events: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    return next((e for e in reversed(events) if e.get("event") == name), {})


def _models(events: Sequence[Mapping[str, Any]]) -> list[str]:
    found: dict[str, None] = {}
    for event in events:
        if event.get("event") == "llm_call" and event.get("model"):
            backend = str(event.get("backend") or "")
            found[f"{backend}:{event['model']}" if backend else str(event["model"])] = None
    return list(found)


def describe_run(
    run_id: str,
    events: Sequence[Mapping[str, Any]],
    result: Mapping[str, Any] | None,
    *,
    status: str = "",
    reason: str = "",
    started: float | None = None,
    ended: float | None = None,
) -> dict[str, Any]:
    """The ``run.json`` facts of a run, from its result when there is one, else its trace."""
    start = _first(events, "run_start")
    end = _last(events, "run_end")
    times = [float(e["t"]) for e in events if isinstance(e.get("t"), int | float)]
    begin = started if started is not None else (min(times) if times else None)
    finish = ended if ended is not None else (max(times) if times else begin)
    rounds = [e for e in events if e.get("event") == "round"]
    result = result or {}
    result_rounds = result.get("rounds") or []
    if result_rounds:
        attempts = len(result_rounds)
        kept = sum(1 for r in result_rounds if r.get("commit"))
    else:
        attempts = len(rounds)
        kept = sum(1 for r in rounds if r.get("accepted"))
    duration = result.get("duration_s")
    if duration is None:
        duration = end.get("duration_s")
    if duration is None and begin is not None and finish is not None:
        duration = round(finish - begin, 3)
    final_status = status or str(result.get("status") or end.get("status") or INTERRUPTED)
    return {
        "format": FORMAT,
        "mendbot": __version__,
        "run_id": run_id,
        "status": final_status,
        "reason": reason or str(result.get("reason") or end.get("reason") or ""),
        "trigger": str(start.get("trigger") or ""),
        "label": str(start.get("label") or ""),
        "base": str(result.get("base") or start.get("base") or ""),
        "branch": str(result.get("branch") or end.get("branch") or start.get("branch") or ""),
        "head": str(result.get("head") or end.get("head") or ""),
        "project": str(start.get("project") or ""),
        "started": begin,
        "ended": finish,
        "duration_s": duration,
        "rounds": attempts,
        "kept": kept,
        "candidates_tried": result.get("candidates_tried", end.get("candidates_tried")),
        "fixed_tests": len(result.get("fixed_tests") or []),
        "remaining_failures": len(result.get("remaining_failures") or []),
        "engines": list(result.get("engines") or start.get("engines") or []),
        "models": _models(events),
    }


def _commit_exists(top: Path, sha: str) -> bool:
    if not re.fullmatch(r"[0-9a-f]{7,64}", sha or ""):
        return False
    found = _git(["cat-file", "-t", sha], top, check=False).strip()
    return found == "commit"


def _parents(
    top: Path, events: Sequence[Mapping[str, Any]], result: Mapping[str, Any]
) -> list[str]:
    """The last good commit of the run and every rolled-back attempt: kept reachable by the ref."""
    last_good = str(result.get("head") or "")
    if not last_good:
        kept = [
            str(e.get("commit")) for e in events if e.get("event") == "round" and e.get("accepted")
        ]
        last_good = kept[-1] if kept else str(_first(events, "run_start").get("base") or "")
    rolled_back: list[str] = []
    verify_commit = ""
    for event in events:
        if event.get("event") == "verify":
            verify_commit = str(event.get("commit") or "")
        elif event.get("event") == "round":
            if not event.get("accepted"):
                commit = str(event.get("rejected_commit") or verify_commit)
                if commit:
                    rolled_back.append(commit)
            verify_commit = ""
    wanted = list(dict.fromkeys([last_good, *rolled_back]))
    return [sha for sha in wanted if sha and _commit_exists(top, sha)]


def _hash(top: Path, text: str) -> str:
    return _git(["hash-object", "-w", "--stdin"], top, stdin=text).strip()


def store_run(
    top: Path,
    run_id: str,
    events: Sequence[Mapping[str, Any]],
    result: Mapping[str, Any] | None,
    *,
    status: str = "",
    reason: str = "",
    started: float | None = None,
    ended: float | None = None,
    secrets: Sequence[str] = (),
) -> str:
    """Write the run as a commit under ``refs/mendbot/runs/<run_id>``; return the commit."""
    _check_run_id(run_id)
    hidden = [s for s in [*secrets, *known_secrets()] if s]
    trace_text, cut = bounded_trace(events, hidden)
    stored_events = [json.loads(line) for line in trace_text.splitlines() if line.strip()]
    meta = describe_run(
        run_id,
        stored_events,
        result,
        status=status,
        reason=reason,
        started=started,
        ended=ended,
    )
    meta["trace"] = {"records": len(stored_events), "bytes": len(trace_text.encode()), "cut": cut}
    meta["parents"] = _parents(top, stored_events, result or {})
    files = {
        "run.json": json.dumps(scrub(meta, hidden), indent=1, default=str) + "\n",
        "result.json": _bounded_json(result or {}, hidden, MAX_STORED_RESULT_BYTES),
        "trace.jsonl": trace_text,
    }
    entries = "".join(
        f"100644 blob {_hash(top, text)}\t{name}\n" for name, text in sorted(files.items())
    )
    tree = _git(["mktree"], top, stdin=entries).strip()
    when = f"@{int(meta['ended'] or time.time())} +0000"
    message = redact(
        f"mendbot run {run_id}: {meta['status']}\n\n"
        f"{meta['rounds']} round(s), {meta['kept']} kept; {meta['reason']}\n\n"
        f"Mendbot-Run: {run_id}\n",
        hidden,
    )
    parents = [arg for sha in meta["parents"] for arg in ("-p", sha)]
    commit = _git(
        ["commit-tree", tree, *parents, "-F", "-"],
        top,
        stdin=message,
        env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
    ).strip()
    _git(["update-ref", run_ref(run_id), commit], top)
    return commit


@dataclass
class RunRecorder:
    """Stores a run in git when it ends, whatever way it ends.

    ``with RunRecorder(top, run_id, trace_file) as recorder: return recorder.keep(repair(...))``
    While the block runs, a ``pid`` file in the run folder says the run is alive; a result, an
    error or an interruption (Ctrl-C) is stored when the block exits. A run killed outright
    leaves its folder without a ref and is listed as interrupted.
    """

    top: Path
    run_id: str
    trace_file: Path | None = None
    result: RunResult | None = None
    started: float = field(default_factory=time.time)
    stored: str = ""
    problem: str = ""

    def folder(self) -> Path:
        if self.trace_file is not None:
            return self.trace_file.parent
        return runs_folder(self.top) / self.run_id

    def __enter__(self) -> RunRecorder:
        self.started = time.time()
        with contextlib.suppress(OSError, MendbotError):
            folder = self.folder()
            folder.mkdir(parents=True, exist_ok=True)
            owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": self.started}
            (folder / "pid").write_text(json.dumps(owner), encoding="utf-8")
        return self

    def keep(self, result: RunResult) -> RunResult:
        self.result = result
        return result

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        status, reason = "", ""
        if error is not None:
            if isinstance(error, KeyboardInterrupt):
                status, reason = INTERRUPTED, "interrupted (Ctrl-C)"
            elif isinstance(error, SystemExit):
                status, reason = INTERRUPTED, f"stopped (exit {error.code})"
            elif isinstance(error, MendbotError):
                status, reason = ERROR, error.message
            else:
                status, reason = ERROR, f"internal error: {type(error).__name__}: {error}"
        self.record(status, reason)

    def record(self, status: str = "", reason: str = "") -> None:
        """Store the run; a failure to store is reported on stderr, never raised."""
        try:
            events = read_trace(self.trace_file) if self.trace_file is not None else []
            if status and self.trace_file is not None:
                marker = {"t": round(time.time(), 3), "event": f"run_{status}", "reason": reason}
                events.append(marker)
                with contextlib.suppress(OSError), self.trace_file.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(scrub(marker, known_secrets())) + "\n")
            payload = None
            if self.result is not None:
                from bot.report.summary import result_to_json

                payload = result_to_json(self.result)
            self.stored = store_run(
                self.top,
                self.run_id,
                events,
                payload,
                status=status,
                reason=reason,
                started=self.started,
                ended=time.time(),
            )
        except (MendbotError, OSError, ValueError) as problem:
            self.problem = str(problem)
            sys.stderr.write(f"mendbot: the run was not stored in git: {problem}\n")
        finally:
            with contextlib.suppress(OSError, MendbotError):
                (self.folder() / "pid").unlink(missing_ok=True)


# -- reading -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRecord:
    """One run as git and its trace tell it."""

    run_id: str
    meta: Mapping[str, Any]
    result: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[Mapping[str, Any], ...] = ()
    commit: str = ""  # the run's commit under refs/mendbot/runs; "" = only the folder on disk

    @property
    def status(self) -> str:
        return str(self.meta.get("status") or INTERRUPTED)

    @property
    def started(self) -> float:
        value = self.meta.get("started")
        return float(value) if isinstance(value, int | float) else 0.0


def _stored_refs(top: Path) -> dict[str, str]:
    output = _git(["for-each-ref", "--format=%(refname)%09%(objectname)", RUNS_PREFIX + "/"], top)
    refs: dict[str, str] = {}
    for line in output.splitlines():
        name, _, sha = line.partition("\t")
        run_id = name.removeprefix(RUNS_PREFIX + "/")
        if run_id and "/" not in run_id:
            refs[run_id] = sha.strip()
    return refs


def _blobs(top: Path, specs: Sequence[str]) -> list[str | None]:
    """The texts of ``commit:path`` specs, read by one ``git cat-file --batch``."""
    if not specs:
        return []
    result = gitcmd.run(
        ["cat-file", "--batch"],
        place(top),
        output_limit=READ_LIMIT,
        stdin_text="".join(spec + "\n" for spec in specs),
    )
    # the texts are UTF-8 JSON, so encoding the decoded output gives back git's exact bytes
    data = result.stdout.encode("utf-8")
    texts: list[str | None] = []
    position = 0
    for _ in specs:
        end = data.find(b"\n", position)
        if end < 0:
            texts.append(None)
            continue
        header = data[position:end].split()
        position = end + 1
        if len(header) != 3 or not header[2].isdigit():
            texts.append(None)  # "<spec> missing"
            continue
        size = int(header[2])
        texts.append(data[position : position + size].decode("utf-8", errors="replace"))
        position += size + 1
    return texts


def _blob(top: Path, commit: str, name: str) -> str | None:
    return _blobs(top, [f"{commit}:{name}"])[0]


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _jsonl(text: str | None) -> tuple[dict[str, Any], ...]:
    records = []
    for line in (text or "").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict):
            records.append(item)
    return tuple(records)


def _alive(folder: Path) -> bool:
    owner = _json((folder / "pid").read_text() if (folder / "pid").is_file() else None)
    pid = owner.get("pid")
    if not isinstance(pid, int) or owner.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unstored(top: Path, stored: Mapping[str, str]) -> dict[str, Path]:
    folder = runs_folder(top)
    if not folder.is_dir():
        return {}
    return {
        path.name: path
        for path in sorted(folder.iterdir())
        if path.is_dir() and path.name not in stored and _RUN_ID.match(path.name)
    }


def _folder_record(run_id: str, folder: Path, *, with_trace: bool = True) -> RunRecord:
    trace = folder / "trace.jsonl"
    events = tuple(read_trace(trace))
    end = _last(events, "run_end")
    status = str(end.get("status") or (RUNNING if _alive(folder) else INTERRUPTED))
    reason = "" if end else ("still running" if status == RUNNING else "the run was cut off")
    owner = _json((folder / "pid").read_text() if (folder / "pid").is_file() else None)
    started = owner.get("started")
    times = [float(e["t"]) for e in events if isinstance(e.get("t"), int | float)]
    if trace.is_file():
        times.append(trace.stat().st_mtime)  # the last write: when the run was cut off
    meta = describe_run(
        run_id,
        events,
        None,
        status=status,
        reason=reason,
        started=float(started) if isinstance(started, int | float) else None,
        ended=max(times) if times else None,
    )
    return RunRecord(run_id, meta, {}, events if with_trace else (), "")


def _stored_runs(top: Path, stored: Mapping[str, str]) -> list[RunRecord]:
    """The stored runs ``stored`` (run id -> commit) with their ``run.json``, by one git call."""
    metas = _blobs(top, [f"{sha}:run.json" for sha in stored.values()])
    return [
        RunRecord(run_id, _json(text) or {"run_id": run_id}, commit=sha)
        for (run_id, sha), text in zip(stored.items(), metas, strict=True)
    ]


def list_runs(top: Path) -> list[RunRecord]:
    """Every run of the repository, oldest first: stored ones and run folders without a ref."""
    stored = _stored_refs(top)
    records = _stored_runs(top, stored)
    records += [
        _folder_record(run_id, folder, with_trace=False)
        for run_id, folder in _unstored(top, stored).items()
    ]
    return sorted(records, key=lambda r: (r.started, r.run_id))


def _pick(runs: Sequence[RunRecord], spec: str) -> RunRecord:
    if not runs:
        raise ConfigError(
            "this repository has no mendbot runs yet",
            hint="run `mendbot fix` first, or fetch runs made in CI with "
            "git fetch origin 'refs/mendbot/*:refs/mendbot/*'",
        )
    if spec in ("last", "latest"):
        return runs[-1]
    exact = [r for r in runs if r.run_id == spec]
    if exact:
        return exact[0]
    matches = [r for r in runs if r.run_id.startswith(spec)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(r.run_id for r in matches[:5])
        raise ConfigError(
            f"{spec!r} matches {len(matches)} runs: {names}",
            hint="give more characters of the run id",
        )
    raise ConfigError(
        f"no run {spec!r} in this repository",
        hint="`mendbot runs` lists the runs; runs made in CI arrive with "
        "git fetch origin 'refs/mendbot/*:refs/mendbot/*'",
    )


def resolve_run(top: Path, spec: str) -> str:
    """A run id from an id, a unique prefix of one, or ``last``."""
    return _pick(list_runs(top), spec).run_id


def _load(top: Path, summary: RunRecord) -> RunRecord:
    if summary.commit:
        sha = summary.commit
        meta_text, result_text, trace_text = _blobs(
            top, [f"{sha}:run.json", f"{sha}:result.json", f"{sha}:trace.jsonl"]
        )
        meta = _json(meta_text) or {"run_id": summary.run_id}
        return RunRecord(summary.run_id, meta, _json(result_text), _jsonl(trace_text), sha)
    return _folder_record(summary.run_id, runs_folder(top) / summary.run_id)


def load_run(top: Path, spec: str) -> RunRecord:
    """One run with its result and trace (``spec``: an id, a unique prefix, or ``last``)."""
    return _load(top, _pick(list_runs(top), spec))


def record_from_result(result: RunResult, events: Sequence[Mapping[str, Any]] = ()) -> RunRecord:
    """A record for a result that was never stored (a report straight after a run)."""
    from bot.report.summary import result_to_json

    payload = scrub(result_to_json(result), known_secrets())
    meta = describe_run(result.run_id or "run", events, payload)
    return RunRecord(result.run_id or "run", meta, payload, tuple(events), "")


def diff_of(top: Path, commit: str, limit: int = 400_000) -> str | None:
    """The change one round commit made (against its first parent); None when it is missing."""
    if not _commit_exists(top, commit):
        return None
    result = gitcmd.run(
        ["diff", "--no-color", "--no-ext-diff", "--no-textconv", f"{commit}^", commit, "--"],
        place(top),
        output_limit=READ_LIMIT,
    )
    if result.returncode != 0:
        return None
    text = redact(result.stdout, known_secrets())
    if len(text) > limit:
        text = text[:limit] + f"\n[... diff cut: {len(text) - limit} more characters]\n"
    return text


def iter_records(top: Path) -> Iterator[RunRecord]:
    """Every run with its result and trace, oldest first (for statistics)."""
    for summary in list_runs(top):
        yield _load(top, summary)


def recent_records(top: Path, limit: int, max_bytes: int) -> list[RunRecord]:
    """The newest stored runs that tried candidates, newest first, with their traces (no
    result): at most ``limit`` runs and ``max_bytes`` of trace, read by three git calls."""
    summaries = sorted(
        _stored_runs(top, _stored_refs(top)), key=lambda r: (r.started, r.run_id), reverse=True
    )
    chosen: list[RunRecord] = []
    total = 0
    for summary in summaries:
        if len(chosen) >= limit:
            break
        if summary.meta.get("candidates_tried") == 0:
            continue  # nothing to learn from a run that tried nothing
        trace = summary.meta.get("trace")
        size = trace.get("bytes") if isinstance(trace, Mapping) else None
        size = size if isinstance(size, int) else MAX_STORED_TRACE_BYTES
        if total + size > max_bytes:
            break
        total += size
        chosen.append(summary)
    traces = _blobs(top, [f"{r.commit}:trace.jsonl" for r in chosen])
    return [
        RunRecord(r.run_id, r.meta, {}, _jsonl(text), r.commit)
        for r, text in zip(chosen, traces, strict=True)
    ]


# -- pruning -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pruned:
    removed: tuple[str, ...]  # run ids, oldest first
    kept: int


def prune_runs(top: Path, keep: int) -> Pruned:
    """Remove all but the newest ``keep`` runs: their refs (the run and its rolled-back
    attempts under ``refs/mendbot/rejected/<run>/``) and their folders. A run that is still
    going is never removed. The objects become unreachable, for ``git gc`` to reclaim."""
    if keep < 0:
        raise ConfigError("--keep must be 0 or more", hint="the number of newest runs to keep")
    finished = [r for r in list_runs(top) if r.status != RUNNING]
    if len(finished) <= keep:
        return Pruned((), len(finished))
    removed = finished[: len(finished) - keep]
    ids = {r.run_id for r in removed}
    rejected = _git(["for-each-ref", "--format=%(refname)", REJECTED_PREFIX + "/"], top)
    refs = [run_ref(r.run_id) for r in removed if r.commit]
    refs += [
        name
        for name in rejected.splitlines()
        if name.removeprefix(REJECTED_PREFIX + "/").split("/")[0] in ids
    ]
    if refs:
        _git(["update-ref", "--stdin"], top, stdin="".join(f"delete {ref}\n" for ref in refs))
    folder = runs_folder(top)
    for run_id in sorted(ids):
        with contextlib.suppress(OSError):
            shutil.rmtree(folder / run_id)
    return Pruned(tuple(r.run_id for r in removed), keep)
