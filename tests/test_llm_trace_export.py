"""`mendbot trace export`: which model calls become fine-tuning examples, and their shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.commands.trace import export_examples, find_trace, trace
from bot.errors import ConfigError
from bot.trace import MAX_FIELD_CHARS, Trace

PROMPT = [
    {"role": "system", "content": "You are a careful maintainer."},
    {"role": "user", "content": "Fix median."},
]


def call(trace_file: Trace, call_id: str, reply: str, **extra: object) -> None:
    trace_file.write(
        "llm_call",
        call_id=call_id,
        purpose=extra.pop("purpose", "repair"),
        model="m",
        level="patch",
        prompt=extra.pop("prompt", PROMPT),
        reply=reply,
        outcome=extra.pop("outcome", "ok"),
        **extra,
    )


@pytest.fixture
def run_trace(tmp_path: Path) -> Path:
    """One run as the engine and the pipeline record it."""
    path = tmp_path / "run" / "trace.jsonl"
    log = Trace(path)
    call(log, "repair-1", "no idea")
    log.write("llm_reply_rejected", call_id="repair-1", reason="prose only")
    call(log, "repair-2", "wrong patch")
    log.write("llm_candidate", call_id="repair-2", candidate_id="llm-1-2")
    log.write("candidate", id="llm-1-2", engine="llm", accepted=False, reason="still fails")
    call(log, "repair-3", "right patch")
    log.write("llm_candidate", call_id="repair-3", candidate_id="llm-1-3")
    log.write("candidate", id="llm-1-3", engine="llm", accepted=True, reason="screened")
    log.write("verify", candidate="llm-1-3", fixed=["t::x"], broken=[])
    call(log, "repair-4", "", outcome="error")
    call(
        log,
        "repair-5",
        "patch with a huge prompt",
        prompt=[{"role": "user", "content": "x" * (MAX_FIELD_CHARS + 10)}],
    )
    log.write("llm_candidate", call_id="repair-5", candidate_id="llm-1-5")
    log.write("candidate", id="llm-1-5", engine="llm", accepted=True, reason="screened")
    call(log, "five-whys-6", '{"whys": ["a"]}', purpose="five-whys")
    return path


def test_only_verified_replies_are_exported_by_default(run_trace: Path) -> None:
    examples, skipped = export_examples([run_trace])
    assert skipped == 1  # the trace had cut that prompt: not a faithful example
    assert [e["meta"]["call_id"] for e in examples] == ["repair-3", "five-whys-6"]
    first = examples[0]
    assert first["prompt"] == PROMPT
    assert first["completion"] == [{"role": "assistant", "content": "right patch"}]


def test_selections_and_formats(run_trace: Path) -> None:
    candidates, _ = export_examples([run_trace], "chat", "candidates")
    assert [e["meta"]["call_id"] for e in candidates] == ["repair-2", "repair-3", "five-whys-6"]
    assert candidates[0]["messages"][-1] == {"role": "assistant", "content": "wrong patch"}
    everything, _ = export_examples([run_trace], "text", "all")
    fates = {e["meta"]["call_id"]: e["meta"]["fate"] for e in everything}
    assert fates["repair-1"] == "rejected" and "repair-4" not in fates  # failed calls: no reply
    text = next(e for e in everything if e["meta"]["call_id"] == "repair-3")
    assert text["prompt"] == "You are a careful maintainer.\n\nFix median."
    assert text["completion"] == "right patch"


def test_the_command_writes_jsonl(run_trace: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "pairs.jsonl"
    result = CliRunner().invoke(trace, ["export", str(run_trace.parent), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2
    assert "exported 2 example(s); skipped 1" in result.output


def test_unknown_runs_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_trace("20990101T000000-abcdef", tmp_path)
    assert "runs live under .git/mendbot/runs/" in caught.value.hint
