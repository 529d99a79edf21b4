"""The LLM repair engine: class-scoped minimal patches, best-of-N, escalation.

For the primary failure the engine walks an escalation ladder (patch with SEARCH/REPLACE,
shown the fix's candidate locations across the repository; then regenerate a function; then
regenerate a file), sampling up to
``settings.samples`` replies per rung along a temperature ladder. Every reply is either a
candidate (whole new file texts) or a rejection with a reason; rejections and the pipeline's
verdicts on earlier candidates go into the next prompt, so each sample knows why the previous
ones failed. The same failure fingerprint three times ends a rung. Budgets on calls, tokens and
wall time bound the whole run. A patch reply that cannot see the code to change (prose, or a
SEARCH for code the prompt did not show) widens the context: more blocks, more files, then
whole files.
"""

from __future__ import annotations

import difflib
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from bot.config import Settings
from bot.edits import EditRejected, normalized_dump
from bot.engines.base import RepairContext
from bot.engines.five_whys import five_whys
from bot.engines.llm_context import (
    MAX_LAYER,
    Target,
    code_slice,
    code_view,
    failing_tests,
    find_targets,
    outline,
    primary_failure,
)
from bot.engines.llm_localize import rank_files
from bot.engines.prompts import POLICIES, Policy, RepairPrompt, repair_messages
from bot.engines.replies import EditScope, apply_reply
from bot.errors import LLMError
from bot.llm.base import LLMBackend, Message
from bot.llm.calls import ModelCaller
from bot.llm.retry import BudgetSpent
from bot.llm.tokens import estimate_messages, estimate_tokens
from bot.models import Candidate, Failure, FileEdit, Verdict
from bot.trace import Trace

__all__ = ["TEMPERATURES", "LLMEngine", "five_whys"]

TEMPERATURES = (0.0, 0.3, 0.6, 0.8)
STUCK_REPEATS = 3
MIN_REPLY_TOKENS = 512
MAX_ATTEMPT_NOTES = 6
# rejections that mean the model did not see the code it had to change
CANNOT_SEE = ("prose only", "SEARCH block not found")


@dataclass
class _Rung:
    """One step of the ladder for one target: its samples and the fingerprints seen."""

    level: str
    target: Target
    fingerprints: Counter[str]
    layer: int = 0  # how wide the patch prompt's context is
    wider: bool = False  # a reply could not see the code: widen the context


class LLMEngine:
    name = "llm"

    def __init__(
        self,
        backend: LLMBackend,
        settings: Settings,
        trace: Trace,
        *,
        temperatures: tuple[float, ...] = TEMPERATURES,
        seed: int = 0,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.trace = trace
        self.caller = ModelCaller(backend, trace)
        self.temperatures = temperatures or TEMPERATURES
        self.seed = seed
        self.stop_reason = ""
        self._numbers = 0
        self._done = False
        self._notes: list[str] = []
        self._seen: set[str] = set()

    # -- protocol ---------------------------------------------------------------------------

    def usage(self) -> Mapping[str, float]:
        counters = self.caller.usage.as_dict()
        counters["max_calls"] = self.settings.llm_max_calls
        counters["max_tokens"] = self.settings.llm_max_tokens
        counters["stopped_by_budget"] = 1.0 if "budget" in self.stop_reason else 0.0
        return counters

    def propose(self, context: RepairContext) -> Iterator[Candidate]:
        self._done = False
        self._notes = []
        self._seen = set()
        self.stop_reason = ""
        failure = primary_failure(context)
        if failure is None:
            return
        policy = POLICIES[failure.failure_class]
        targets = find_targets(context, failure)
        if not targets:
            # no ranked function: the most likely file still gets a prompt
            targets = [Target(f.path, "", None) for f in rank_files(context, failure)[:2]]
        if not targets:
            self._stop("no file of the code under repair could be tied to the failure")
            return
        sent_any = False
        too_large: list[str] = []
        for rung in _rungs(policy, targets):
            while True:
                for item in self._explore(context, failure, policy, rung):
                    if isinstance(item, str):
                        too_large.append(item)
                        break
                    sent_any = True
                    yield item
                    if self._done:
                        return
                if self._done or self.stop_reason:
                    return
                if not rung.wider or rung.layer >= MAX_LAYER:
                    break
                rung = _Rung(rung.level, rung.target, Counter(), rung.layer + 1)
                self.trace.write("llm_context_widened", layer=rung.layer)
        if not sent_any and too_large:
            raise LLMError(
                f"no prompt fits the context of {self.backend.model} "
                f"({self.backend.context_window} tokens): {too_large[0]}",
                hint="raise num-ctx (MENDBOT_NUM_CTX or [tool.mendbot] num-ctx) or use a model "
                "with a larger context",
            )

    def explain(self, failures: Sequence[Failure], diff: str) -> str | None:
        """A five-whys root-cause note for an accepted round, or None (keep the plain note).

        Counted against the same budgets as repair calls; never raises.
        """
        if self.caller.usage.calls >= self.settings.llm_max_calls:
            return None
        if self.caller.usage.tokens >= self.settings.llm_max_tokens:
            return None
        return five_whys(self.caller, failures, diff)

    # -- the ladder -------------------------------------------------------------------------

    def _explore(
        self, context: RepairContext, failure: Failure, policy: Policy, rung: _Rung
    ) -> Iterator[Candidate | str]:
        """Samples for one rung; yields candidates, or a string when no prompt fits."""
        for sample in range(self.settings.samples):
            budget_problem = self._budget_problem(context)
            if budget_problem:
                self._stop(budget_problem)
                return
            prompt = self._prompt(context, failure, rung)
            if prompt is None:
                return
            fitted = self._fit(prompt, rung.level)
            if fitted is None:
                needed = estimate_messages(repair_messages(prompt, 3))
                reason = f"the {rung.level} prompt for {_name(rung.target)} needs ~{needed} tokens"
                self.trace.write("llm_prompt_too_large", level=rung.level, reason=reason)
                yield reason
                return
            messages, max_reply = fitted
            if self.caller.usage.tokens + estimate_messages(messages) + max_reply > (
                self.settings.llm_max_tokens
            ):
                self._stop(f"the LLM token budget ({self.settings.llm_max_tokens}) is used up")
                return
            temperature = self.temperatures[sample % len(self.temperatures)]
            self._numbers += 1
            try:
                call_id, completion = self.caller.call(
                    messages,
                    purpose="repair",
                    temperature=temperature,
                    max_tokens=max_reply,
                    seed=self.seed + self._numbers,
                    details={
                        "round": context.round_number,
                        "level": rung.level,
                        "target": _name(rung.target),
                        "failure_class": failure.failure_class.value,
                        "context_layer": rung.layer,
                        "context_files": [view.path for view in prompt.views],
                    },
                )
            except BudgetSpent as error:  # the run's time is up: a stop, not a model failure
                self._stop(f"the time budget ran out while waiting for the model: {error.message}")
                return
            candidate = self._candidate(context, policy, rung, call_id, completion.text)
            if isinstance(candidate, str):
                if completion.truncated:
                    candidate += " (the reply was cut at the token limit)"
                self.caller.reject(call_id, candidate, level=rung.level, target=_name(rung.target))
                self._note(f"A reply was refused: {candidate}")
                if rung.level == "patch" and rung.layer < MAX_LAYER and _cannot_see(candidate):
                    rung.wider = True
                    return
                if self._stuck(rung, "refused: " + candidate.split(":")[0]):
                    return
                continue
            self.caller.usage.candidates += 1
            yield candidate
            verdict = _verdict_for(context, candidate.id)
            if verdict is None:
                continue
            self.trace.write(
                "llm_verdict",
                call_id=call_id,
                candidate_id=candidate.id,
                accepted=verdict.accepted,
                reason=verdict.reason,
            )
            if verdict.accepted:
                self._done = True
                return
            self._note(_attempt_note(context, candidate, verdict))
            if self._stuck(rung, _fingerprint(verdict)):
                return

    def _candidate(
        self, context: RepairContext, policy: Policy, rung: _Rung, call_id: str, reply: str
    ) -> Candidate | str:
        scope = EditScope(
            project_dir=context.project_dir,
            sources=context.sources,
            default_path=rung.target.path,
            level=rung.level,
            allow_signature_change=policy.allow_signature_change,
            allow_tests=context.allow_test_edits,
            test_sources=context.test_sources,
            protected=context.protected,
        )
        limit = max(20_000, _max_reply_chars(context.sources.get(rung.target.path, "")))
        try:
            applied = apply_reply(reply, scope, max_chars=limit)
        except EditRejected as error:
            return error.reason
        key = "\n".join(
            f"{path}\n{normalized_dump(text)}" for path, text in sorted(applied.files.items())
        )
        if key in self._seen:
            return "duplicate: the same change as an earlier candidate"
        self._seen.add(key)
        candidate_id = f"llm-{context.round_number}-{self._numbers}"
        edits = tuple(FileEdit(path, text) for path, text in sorted(applied.files.items()))
        size = sum(
            _changed_lines(context.sources.get(e.path, context.test_sources.get(e.path, "")), e)
            for e in edits
        )
        paths = sorted(applied.files)
        where = (
            f"{rung.target.function}() in {rung.target.path}"
            if rung.target.function and paths == [rung.target.path]
            else ", ".join(paths)
        )
        kind = {"patch": "patch", "function": "rewrite", "file": "regenerated file"}[rung.level]
        description = f"LLM {kind} of {where} ({self.backend.model})"
        self.trace.write(
            "llm_candidate",
            call_id=call_id,
            candidate_id=candidate_id,
            level=rung.level,
            files=[e.path for e in edits],
            how=list(applied.how),
            size=size,
        )
        return Candidate(
            id=candidate_id,
            engine=self.name,
            template=f"llm-{rung.level}",
            description=description,
            edits=edits,
            location=rung.target.location,
            size=size,
            rationale=(
                f"{self.backend.model} proposed it under the {policy_name(rung)} policy "
                f"({'; '.join(applied.how)[:160]})"
            ),
        )

    # -- prompts ----------------------------------------------------------------------------

    def _prompt(self, context: RepairContext, failure: Failure, rung: _Rung) -> RepairPrompt | None:
        target = rung.target
        tests = failing_tests(context, failure)
        others = tuple(
            f.nodeid for f in context.analysis.failures if f.nodeid not in {t.nodeid for t in tests}
        )
        views = code_view(context, failure, rung.layer) if rung.level == "patch" else ()
        if views and views[0].snippets:
            first = views[0].snippets[0]
            return RepairPrompt(
                failure_class=failure.failure_class,
                level=rung.level,
                path=views[0].path,
                function="",
                code="".join(s.code for v in views for s in v.snippets),
                start_line=first.start,
                outline="",
                tests=tuple(tests),
                other_failures=others,
                attempts=tuple(self._notes),
                instruction=context.instruction,
                views=views,
            )
        text = context.sources.get(target.path, "")
        piece = code_slice(text, target.function, rung.level, target.line)
        if piece is None:
            return None
        return RepairPrompt(
            failure_class=failure.failure_class,
            level=rung.level,
            path=target.path,
            function=target.function if rung.level != "file" else "",
            code=piece.code,
            start_line=piece.start_line,
            outline=outline(text, skip=target.function) if rung.level != "file" else "",
            tests=tuple(tests),
            other_failures=others,
            attempts=tuple(self._notes),
            instruction=context.instruction,
        )

    def _fit(self, prompt: RepairPrompt, level: str) -> tuple[list[Message], int] | None:
        """The least-trimmed prompt that fits the model's context with room for the reply."""
        window = self.backend.context_window
        code_tokens = estimate_tokens(prompt.code)
        wanted = {
            "patch": max(MIN_REPLY_TOKENS, code_tokens + 256),
            "function": max(MIN_REPLY_TOKENS, int(code_tokens * 1.5) + 384),
            "file": max(MIN_REPLY_TOKENS, int(code_tokens * 1.3) + 512),
        }[level]
        max_reply = min(wanted, max(MIN_REPLY_TOKENS, window // 2))
        for trim in range(4):
            messages = repair_messages(prompt, trim)
            if estimate_messages(messages) + max_reply <= window:
                if trim:
                    self.trace.write("llm_prompt_trimmed", level=level, trim=trim)
                return messages, max_reply
        return None

    # -- bookkeeping ------------------------------------------------------------------------

    def _budget_problem(self, context: RepairContext) -> str:
        usage = self.caller.usage
        if usage.calls >= self.settings.llm_max_calls:
            return f"the LLM call budget ({self.settings.llm_max_calls} calls) is used up"
        if usage.tokens >= self.settings.llm_max_tokens:
            return f"the LLM token budget ({self.settings.llm_max_tokens}) is used up"
        if time.monotonic() >= context.deadline:
            return "the time budget ran out"
        return ""

    def _stop(self, reason: str) -> None:
        self.stop_reason = reason
        self.trace.write("llm_stopped", reason=reason, **self.caller.usage.as_dict())

    def _note(self, note: str) -> None:
        self._notes.append(note)
        del self._notes[:-MAX_ATTEMPT_NOTES]

    def _stuck(self, rung: _Rung, fingerprint: str) -> bool:
        rung.fingerprints[fingerprint] += 1
        if rung.fingerprints[fingerprint] >= STUCK_REPEATS:
            self.trace.write(
                "llm_stuck",
                level=rung.level,
                target=_name(rung.target),
                fingerprint=fingerprint,
                reason=f"the same outcome {STUCK_REPEATS} times; escalating",
            )
            return True
        return False


def policy_name(rung: _Rung) -> str:
    return {"patch": "minimal-patch", "function": "regenerate-function", "file": "regenerate-file"}[
        rung.level
    ]


def _name(target: Target) -> str:
    return f"{target.path}::{target.function}" if target.function else target.path


def _rungs(policy: Policy, targets: list[Target]) -> Iterator[_Rung]:
    """The ladder: one patch rung over the candidate locations, then per target function, then
    per file."""
    for level in policy.levels:
        if level == "patch":
            yield _Rung(level, targets[0], Counter())
            continue
        for target in targets if level != "file" else _one_per_file(targets):
            if level == "function" and not target.function:
                continue  # module-level code has no function to regenerate
            yield _Rung(level, target, Counter())


def _cannot_see(reason: str) -> bool:
    return any(marker in reason for marker in CANNOT_SEE)


def _one_per_file(targets: list[Target]) -> list[Target]:
    seen: set[str] = set()
    result = []
    for target in targets:
        if target.path not in seen:
            seen.add(target.path)
            result.append(target)
    return result


def _max_reply_chars(text: str) -> int:
    return 4 * len(text) + 8000


def _changed_lines(old: str, edit: FileEdit) -> int:
    matcher = difflib.SequenceMatcher(None, old.splitlines(), edit.new_text.splitlines())
    return sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    )


def _verdict_for(context: RepairContext, candidate_id: str) -> Verdict | None:
    for candidate, verdict in reversed(context.feedback.verdicts):
        if candidate.id == candidate_id:
            return verdict
    return None


def _fingerprint(verdict: Verdict) -> str:
    return "|".join(
        [
            verdict.reason.split(":")[0][:80],
            ",".join(sorted(verdict.still_failing)),
            ",".join(sorted(verdict.broken)),
        ]
    )


def _attempt_note(context: RepairContext, candidate: Candidate, verdict: Verdict) -> str:
    diff_lines: list[str] = []
    for edit in candidate.edits:
        old = context.sources.get(edit.path, context.test_sources.get(edit.path, ""))
        diff_lines += difflib.unified_diff(
            old.splitlines(), edit.new_text.splitlines(), edit.path, edit.path, n=1, lineterm=""
        )
    diff = "\n".join(diff_lines[:40])
    parts = [f"This change was tested and rejected: {verdict.reason}"]
    if verdict.still_failing:
        parts.append("still failing: " + ", ".join(verdict.still_failing[:5]))
    if verdict.broken:
        parts.append("newly broken: " + ", ".join(verdict.broken[:5]))
    return "\n".join(parts) + "\n" + diff
