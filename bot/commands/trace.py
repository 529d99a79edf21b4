"""`mendbot trace export`: prompt and completion pairs from a run's trace, for fine-tuning.

Every model call is in the run's JSONL trace (``llm_call``), with what became of its reply:
refused (``llm_reply_rejected``), turned into a candidate (``llm_candidate``), and the
candidate's verdict (``candidate``, ``verify``, ``llm_verdict``). By default only replies that
led to a verified fix are exported: those are the examples worth learning from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from bot.errors import ConfigError
from bot.redaction import echo
from bot.trace import read_trace

CUT_MARK = " chars cut]"
FORMATS = ("pairs", "chat", "text")
SELECTIONS = ("accepted", "candidates", "all")


def find_trace(run: str, repo: Path) -> Path:
    """A trace file from a path, a run folder, or a run id of the repository at ``repo``."""
    given = Path(run)
    if given.is_file():
        return given
    if given.is_dir() and (given / "trace.jsonl").is_file():
        return given / "trace.jsonl"
    from bot.cli import trace_path

    located = trace_path(repo, run)
    if located is not None and located.is_file():
        return located
    raise ConfigError(
        f"no trace found for {run!r}",
        hint="pass a trace.jsonl path, a run folder, or a run id of this repository "
        "(runs live under .git/mendbot/runs/)",
    )


def _accepted_candidates(records: list[dict[str, Any]]) -> set[str]:
    accepted: set[str] = set()
    refuted: set[str] = set()
    for record in records:
        event = record.get("event")
        candidate = str(record.get("id") or record.get("candidate_id") or "")
        if event in ("candidate", "llm_verdict") and record.get("accepted"):
            accepted.add(candidate)
        elif event == "verify":
            candidate = str(record.get("candidate") or "")
            if record.get("broken") or not record.get("fixed"):
                refuted.add(candidate)
            else:
                accepted.add(candidate)
    return accepted - refuted


def select_calls(records: list[dict[str, Any]], selection: str) -> Iterator[dict[str, Any]]:
    """The ``llm_call`` records to export, each with a ``fate`` added."""
    rejected = {r.get("call_id") for r in records if r.get("event") == "llm_reply_rejected"}
    candidate_of: dict[str, str] = {}
    for record in records:
        if record.get("event") == "llm_candidate":
            candidate_of[str(record.get("call_id"))] = str(record.get("candidate_id"))
        if record.get("event") == "reproduction_test":
            candidate_of[str(record.get("call_id"))] = f"reproduction:{record.get('path')}"
    accepted = _accepted_candidates(records)
    for record in records:
        if record.get("event") != "llm_call" or record.get("outcome") not in ("ok", "truncated"):
            continue
        call_id = str(record.get("call_id"))
        candidate = candidate_of.get(call_id)
        if call_id in rejected:
            fate = "rejected"
        elif _accepted(candidate, accepted, str(record.get("purpose"))):
            fate = "accepted"
        elif candidate is not None:
            fate = "candidate"
        else:
            fate = "unknown"
        if selection == "accepted" and fate != "accepted":
            continue
        if selection == "candidates" and fate not in ("accepted", "candidate"):
            continue
        yield {**record, "fate": fate}


def _accepted(candidate: str | None, accepted: set[str], purpose: str) -> bool:
    if purpose == "five-whys":
        return True  # a note is only asked for after a verified fix; refusals are caught above
    if candidate is None:
        return False
    return candidate in accepted or candidate.startswith("reproduction:")


def _is_cut(record: dict[str, Any]) -> bool:
    texts = [str(m.get("content", "")) for m in record.get("prompt") or []]
    texts.append(str(record.get("reply", "")))
    return any(CUT_MARK in text for text in texts)


def to_example(record: dict[str, Any], form: str) -> dict[str, Any]:
    prompt = [
        {"role": str(m.get("role")), "content": str(m.get("content"))}
        for m in record.get("prompt") or []
    ]
    reply = str(record.get("reply", ""))
    meta = {
        key: record.get(key)
        for key in ("call_id", "purpose", "model", "level", "failure_class", "fate")
        if record.get(key) is not None
    }
    if form == "chat":
        return {"messages": [*prompt, {"role": "assistant", "content": reply}], "meta": meta}
    if form == "text":
        text = "\n\n".join(m["content"] for m in prompt)
        return {"prompt": text, "completion": reply, "meta": meta}
    return {
        "prompt": prompt,
        "completion": [{"role": "assistant", "content": reply}],
        "meta": meta,
    }


def export_examples(
    traces: Iterable[Path], form: str = "pairs", selection: str = "accepted"
) -> tuple[list[dict[str, Any]], int]:
    """The examples of every trace, and how many calls were skipped as cut by the trace limit."""
    examples: list[dict[str, Any]] = []
    skipped = 0
    for path in traces:
        for record in select_calls(read_trace(path), selection):
            if _is_cut(record):
                skipped += 1
                continue
            examples.append(to_example(record, form))
    return examples, skipped


@click.group("trace")
def trace() -> None:
    """Work with the JSONL traces mendbot writes for each run."""


@trace.command("export")
@click.argument("runs", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write the JSONL here (default: stdout)",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(FORMATS),
    default="pairs",
    show_default=True,
    help="pairs: {prompt: [messages], completion: [message]}; chat: {messages: [...]}; "
    "text: {prompt: str, completion: str}",
)
@click.option(
    "--select",
    "selection",
    type=click.Choice(SELECTIONS),
    default="accepted",
    show_default=True,
    help="accepted: replies that led to a verified fix; candidates: any usable reply; all",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="repository whose run ids RUNS names (default: the current folder)",
)
def export(
    runs: tuple[str, ...], output: Path | None, form: str, selection: str, repo: Path
) -> None:
    """Write prompt/completion pairs from the traces of RUNS (run ids, folders or files)."""
    paths = [find_trace(run, repo) for run in runs]
    examples, skipped = export_examples(paths, form, selection)
    lines = "".join(json.dumps(example, ensure_ascii=False) + "\n" for example in examples)
    if output is None:
        echo(lines, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(lines, encoding="utf-8")
    note = f"exported {len(examples)} example(s)"
    if skipped:
        note += f"; skipped {skipped} whose prompt or reply the trace had cut"
    echo(note, err=True)
