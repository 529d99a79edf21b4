"""The machine-readable run summary printed by `--json` and stored with each run."""

from __future__ import annotations

from typing import Any

from bot.models import RunResult
from bot.redaction import known_secrets, redact_value


def result_to_json(result: RunResult) -> dict[str, Any]:
    """The run as JSON, with every secret value and secret shape redacted."""
    return redact_value(_result_to_json(result), known_secrets())  # type: ignore[no-any-return]


def _result_to_json(result: RunResult) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "reason": result.reason,
        "run_id": result.run_id,
        "base": result.base,
        "branch": result.branch or None,
        "head": result.head,
        "project": result.project_subdir or ".",
        "rounds": [
            {
                "number": r.number,
                "engine": r.engine,
                "commit": r.commit,
                "files": list(r.files),
                "tests_fixed": list(r.fixed_tests),
                "reason": r.reason,
                "template": r.template,
                "description": r.description,
                "root_cause": r.root_cause,
                "rejected_ref": r.rejected_ref,
                "partial": r.partial,
                "proved_by": r.proved_by,
                "exercised_by": list(r.exercised_by),
                "doubts": list(r.doubts),
                "duration_s": r.duration_s,
            }
            for r in result.rounds
        ],
        "fixed_tests": list(result.fixed_tests),
        "remaining_failures": list(result.remaining_failures),
        "diff": result.diff,
        "candidates_tried": result.candidates_tried,
        "duration_s": result.duration_s,
        "engines": list(result.engines),
        "warnings": list(result.warnings),
        "failures": [
            {
                "test": f.nodeid,
                "class": f.failure_class.value,
                "error": f.exception_type,
                "message": f.message,
            }
            for f in (result.analysis.failures if result.analysis else ())
        ],
        "extra": dict(result.extra),
    }
