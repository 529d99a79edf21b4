"""Priors learned from a repository's stored runs: the multipliers they give the built-in
priors (bounded, smoothed, per failure class, deterministic), how they are read from git, and
what they change in a real run: the template that paid off here comes earlier, and with the
switch off the order is the built-in one."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from conftest import git
from history_fixtures import cli, make_project

from bot import history
from bot.bench import bench_settings
from bot.config import Settings, load_settings
from bot.engines.base import FeedbackLog, RepairContext
from bot.engines.mutations.learned import (
    HIGHEST,
    LOWEST,
    NO_LEARNED_PRIORS,
    LearnedPriors,
    learn,
)
from bot.engines.templates import TemplateEngine
from bot.history import RunRecord
from bot.models import Analysis, Failure, FailureClass, Location, TestRun

LOGIC, CONTRACT = FailureClass.LOGIC, FailureClass.CONTRACT


# -- synthetic records, in the format a run stores --------------------------------------------
def round_events(
    number: int,
    classes: Sequence[str],
    tried: Sequence[str],
    kept: str = "",
    engine: str = "templates",
) -> list[dict[str, Any]]:
    """The trace events of one round: its analysis, the candidates tried, the kept round."""
    events: list[dict[str, Any]] = [
        {
            "t": 1.0,
            "event": "analysis",
            "round": number,
            "failures": [{"test": f"t::{i}", "class": c} for i, c in enumerate(classes)],
        }
    ]
    for index, template in enumerate(tried):
        events.append(
            {
                "t": 2.0,
                "event": "candidate",
                "id": f"r{number}-t{index}",
                "engine": "templates",
                "template": template,
                "accepted": template == kept,
                "reason": "",
            }
        )
    if kept:
        events += [
            {"t": 3.0, "event": "verify", "candidate": f"r{number}-t0"},
            {
                "t": 4.0,
                "event": "round",
                "number": number,
                "accepted": True,
                "commit": "c" * 40,
                "template": kept,
                "engine": engine,
            },
        ]
    return events


def record(run_id: str, *rounds: list[dict[str, Any]]) -> RunRecord:
    events = tuple(event for one in rounds for event in one)
    return RunRecord(run_id, {"run_id": run_id, "status": "fixed"}, {}, events, "")


def multipliers(learned: LearnedPriors, failure_class: FailureClass) -> dict[str, float]:
    return {e.template: e.multiplier for e in learned.evidence if e.failure_class is failure_class}


# -- the multipliers --------------------------------------------------------------------------
def test_a_kept_template_is_raised_and_the_ones_tried_before_it_lowered() -> None:
    tried = ["arithmetic-operator", "identifier", "swap-operands"]  # priors 0.9, 0.7, 0.5
    learned = learn([record("r1", round_events(1, ["LOGIC"], tried, kept="swap-operands"))])
    assert learned.runs == 1 and learned.changed
    # the priors expected swap-operands to be kept in 0.5 / 2.1 of a round; it was kept in one,
    # and that one round weighs against six rounds' worth of the prior
    expected = 0.5 / (0.9 + 0.7 + 0.5)
    assert multipliers(learned, LOGIC) == {
        "swap-operands": round((1 / expected + 6) / 7, 3),
        "arithmetic-operator": round(6 / 7, 3),  # tried in one round, not kept
        "identifier": round(6 / 7, 3),
    }
    assert learned.multiplier(LOGIC, "swap-operands") == 1.457
    assert learned.multiplier(LOGIC, "never-seen") == 1.0  # no evidence: the built-in prior
    assert learned.multiplier(CONTRACT, "swap-operands") == 1.0  # another class learned nothing
    assert learned.to_json() == {
        "runs": 1,
        "multipliers": {
            "LOGIC": {"arithmetic-operator": 0.857, "identifier": 0.857, "swap-operands": 1.457}
        },
    }


def test_templates_that_pay_off_as_their_priors_say_keep_them() -> None:
    """Two templates of the same built-in prior, each kept in one of the two rounds both were
    tried in: just what the prior expected, so neither moves."""
    both = ["identifier", "attribute"]
    learned = learn(
        [
            record("r1", round_events(1, ["LOGIC"], both, kept="identifier")),
            record("r2", round_events(1, ["LOGIC"], both, kept="attribute")),
        ]
    )
    assert multipliers(learned, LOGIC) == {"identifier": 1.0, "attribute": 1.0}
    assert not learned.changed


def test_evidence_is_smoothed_and_bounded_so_a_few_runs_cannot_bury_a_template() -> None:
    def after(runs: int) -> dict[str, float]:
        rounds = [
            record(f"r{n}", round_events(1, ["LOGIC"], ["off-by-one", "clamp"], kept="clamp"))
            for n in range(runs)
        ]
        return multipliers(learn(rounds), LOGIC)

    one, three, many = after(1), after(3), after(40)
    # each round without a keep lowers it a little more, and never below LOWEST
    assert one["off-by-one"] > three["off-by-one"] > many["off-by-one"] == LOWEST
    assert one["off-by-one"] == round(6 / 7, 3) and three["off-by-one"] == round(6 / 9, 3)
    # and each kept round raises the one that paid off, up to HIGHEST
    assert 1.0 < one["clamp"] < three["clamp"] < many["clamp"] == HIGHEST
    assert all(LOWEST <= value <= HIGHEST for value in [*one.values(), *many.values()])


def test_multipliers_are_learned_per_failure_class_of_the_round() -> None:
    """A round is repaired as its first failure class (RUNTIME_SAFETY before LOGIC, as the
    engine does); what paid off for CONTRACT rounds leaves LOGIC alone."""
    learned = learn(
        [
            record(
                "r1",
                round_events(1, ["CONTRACT"], ["exception-type", "raise-guard"], "raise-guard"),
            ),
            record(
                "r2",
                round_events(
                    1, ["LOGIC", "RUNTIME_SAFETY"], ["none-guard", "off-by-one"], "none-guard"
                ),
            ),
        ]
    )
    assert set(multipliers(learned, CONTRACT)) == {"exception-type", "raise-guard"}
    assert multipliers(learned, CONTRACT)["raise-guard"] > 1.0
    assert set(multipliers(learned, FailureClass.RUNTIME_SAFETY)) == {"none-guard", "off-by-one"}
    assert multipliers(learned, LOGIC) == {}
    assert learned.multiplier(LOGIC, "raise-guard") == 1.0


def test_no_order_is_made_from_rounds_where_no_template_paid_off() -> None:
    tried = ["comparison-boundary", "identifier"]
    nothing_kept = record("r1", round_events(1, ["LOGIC"], tried))
    kept_by_a_model = record(
        "r2", round_events(1, ["LOGIC"], tried, kept="llm-patch", engine="llm")
    )
    learned = learn([nothing_kept, kept_by_a_model])
    assert learned.evidence == () and not learned.changed
    assert learned.multiplier(LOGIC, "identifier") == 1.0
    assert learn([]) == NO_LEARNED_PRIORS


def test_a_kept_pair_counts_for_both_of_its_templates() -> None:
    tried = ["identifier", "arithmetic-operator", "off-by-one", "arithmetic-operator+identifier"]
    learned = learn(
        [record("r1", round_events(1, ["LOGIC"], tried, kept="arithmetic-operator+identifier"))]
    )
    found = multipliers(learned, LOGIC)
    assert found["identifier"] > 1.0 and found["arithmetic-operator"] > 1.0
    assert found["off-by-one"] < 1.0 and "arithmetic-operator+identifier" not in found


def test_the_same_records_give_the_same_multipliers_in_any_order() -> None:
    records = [
        record("r1", round_events(1, ["LOGIC"], ["identifier", "clamp", "off-by-one"], "clamp")),
        record("r2", round_events(1, ["LOGIC"], ["identifier", "off-by-one"], "off-by-one")),
        record(
            "r3",
            round_events(1, ["LOGIC"], ["identifier", "return-value"]),
            round_events(2, ["CONTRACT"], ["raise-guard", "identifier"], "identifier"),
        ),
    ]
    first = learn(records)
    assert first == learn(list(reversed(records))) == learn(records)
    assert first.to_json() == learn(list(reversed(records))).to_json()


# -- the engine multiplies --------------------------------------------------------------------
TAGGED = (
    "def tagged(words, tag):\n"
    "    out = []\n"
    "    for word in words:\n"
    "        out.append(word + tag)\n"
    "    return out\n"
)


def engine_order(learned: LearnedPriors, tmp_path: Path) -> list[tuple[str, str]]:
    context = RepairContext(
        project_dir=tmp_path,
        sources={"names.py": TAGGED},
        test_sources={},
        analysis=Analysis(
            failures=(
                Failure("tests/test_names.py::test_tagged", LOGIC, "AssertionError", "", ()),
            ),
            locations=tuple(Location("names.py", n, "tagged", 0.7, "spectrum") for n in (4, 2, 5)),
        ),
        baseline=TestRun(results=()),
        round_number=1,
        deadline=time.monotonic() + 60,
        feedback=FeedbackLog(),
        learned=learned,
    )
    return [(c.template, c.edits[0].new_text) for c in TemplateEngine(pairs=False).propose(context)]


def test_the_engine_orders_by_built_in_prior_times_learned_multiplier(tmp_path: Path) -> None:
    fixed = TAGGED.replace("word + tag", "tag + word")
    built_in = engine_order(NO_LEARNED_PRIORS, tmp_path)
    position = built_in.index(("swap-operands", fixed))
    assert position > 5
    tried = list(dict.fromkeys(template for template, _ in built_in[: position + 1]))
    learned = learn([record("r1", round_events(1, ["LOGIC"], tried, kept="swap-operands"))])
    raised = engine_order(learned, tmp_path)
    # the same edits, in another order: the swap of operands first
    assert {text for _, text in raised} == {text for _, text in built_in}
    assert raised[0] == ("swap-operands", fixed)
    # and a learned order that changes nothing leaves the built-in one
    even = learn([record("r1", round_events(1, ["CONTRACT"], tried, kept="swap-operands"))])
    assert even.changed and engine_order(even, tmp_path) == built_in


# -- reading the records ----------------------------------------------------------------------
def store(root: Path, run_id: str, started: float, candidates_tried: int) -> None:
    events = round_events(1, ["LOGIC"], ["identifier", "clamp"], kept="clamp")
    result = {"status": "fixed", "candidates_tried": candidates_tried, "rounds": []}
    history.store_run(root, run_id, events, result, started=started, ended=started + 1)


def test_the_newest_runs_are_read_within_a_count_and_a_size(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", {"a.py": "A = 1\n"})
    store(root, "20250101T000001-aaaaa1", 10.0, 5)
    store(root, "20250101T000003-aaaaa3", 30.0, 0)  # tried nothing: nothing to learn from
    store(root, "20250101T000002-aaaaa2", 20.0, 5)
    store(root, "20250101T000004-aaaaa4", 40.0, 5)
    found = history.recent_records(root, 2, 10_000_000)
    assert [r.run_id for r in found] == ["20250101T000004-aaaaa4", "20250101T000002-aaaaa2"]
    assert all(any(e.get("event") == "candidate" for e in r.events) for r in found)
    size = int(found[0].meta["trace"]["bytes"])
    assert [r.run_id for r in history.recent_records(root, 10, size)] == [found[0].run_id]
    assert history.recent_records(root, 10, size - 1) == []
    assert len(history.recent_records(root, 10, 10_000_000)) == 3
    assert learn(history.recent_records(root, 10, 10_000_000)).runs == 3


def test_stats_shows_the_multiplier_each_template_gets_next(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", {"a.py": "A = 1\n"})
    store(root, "20250101T000001-aaaaa1", 10.0, 5)
    data = cli("stats", "--json", cwd=root).json()
    assert data["learned_priors"] == {
        "enabled": True,
        "runs": 1,
        "templates": [
            {
                "failure_class": "LOGIC",
                "template": "clamp",
                "rounds_tried": 1,
                "rounds_kept": 1,
                "multiplier": round(((0.5 + 0.7) / 0.5 + 6) / 7, 3),  # priors 0.5 and 0.7
            },
            {
                "failure_class": "LOGIC",
                "template": "identifier",
                "rounds_tried": 1,
                "rounds_kept": 0,
                "multiplier": 0.857,
            },
        ],
    }
    text = cli("stats", cwd=root).stdout
    assert "learned priors (x the built-in prior, from 1 run(s)):" in text
    assert "clamp" in text and "x1.2" in text and "x0.857" in text
    (root / ".mendbot.toml").write_text("learned-priors = false\n")
    assert cli("stats", "--json", cwd=root).json()["learned_priors"]["enabled"] is False
    assert "off here (learned-priors = false)" in cli("stats", cwd=root).stdout


# -- the switch ---------------------------------------------------------------------------------
def test_the_switch_is_a_setting_and_bench_always_turns_it_off(tmp_path: Path) -> None:
    assert Settings().learned_priors is True
    (tmp_path / ".mendbot.toml").write_text("learned-priors = false\n")
    assert load_settings(tmp_path, environ={}).learned_priors is False
    assert (
        load_settings(tmp_path / "nowhere", environ={"MENDBOT_LEARNED_PRIORS": "0"}).learned_priors
        is False
    )
    assert bench_settings(Settings(learned_priors=True)).learned_priors is False


# -- a real repository --------------------------------------------------------------------------
SIGNED = """

def signed(lines, name):
    return [line + name for line in lines]
"""
SIGNED_TEST = """

def test_signed():
    from names import signed

    assert signed(["ok", "no"], "@ann ") == ["@ann ok", "@ann no"]
"""


def candidate_ranks(root: Path, run_id: str) -> tuple[dict[str, int], int]:
    """(description -> rank in the engine's order, the rank of the kept candidate) of round 1
    of a stored run, from its trace."""
    events = history.load_run(root, run_id).events
    ranks: dict[str, int] = {}
    rank_of: dict[str, int] = {}
    kept = ""
    for event in events:
        name = str(event.get("id") or "")
        single = re.fullmatch(r"r1-t(\d+)", name)  # a single edit, numbered in the engine's order
        if event.get("event") == "candidate" and single:
            rank_of[name] = int(single[1])
            ranks[str(event["description"])] = rank_of[name]
        elif event.get("event") == "verify" and not kept:
            kept = str(event.get("candidate"))
    return ranks, rank_of[kept]


def fix(root: Path, *options: str) -> Mapping[str, Any]:
    done = cli("fix", "--json", *options, cwd=root)
    assert done.code == 0, done.stderr
    result: Mapping[str, Any] = done.json()
    assert result["status"] == "fixed", result["reason"]
    assert [r["template"] for r in result["rounds"]] == ["swap-operands"]
    return {**result, "stderr": done.stderr}


def test_what_paid_off_in_an_earlier_run_comes_first_in_the_next(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "repo",
        {
            "names.py": TAGGED,
            "tests/test_names.py": (
                "from names import tagged\n\n\n"
                "def test_tagged():\n"
                '    assert tagged(["a", "b"], "x-") == ["x-a", "x-b"]\n'
            ),
        },
    )
    # an earlier run here kept a swap of operands, and its fix was merged
    earlier = fix(root)
    git(root, "merge", "-q", "--ff-only", earlier["branch"])
    # a new bug of the same kind, in another function
    with (root / "names.py").open("a") as handle:
        handle.write(SIGNED)
    with (root / "tests/test_names.py").open("a") as handle:
        handle.write(SIGNED_TEST)
    git(root, "commit", "-qam", "signed lines")
    # a clone without the run records (refs/mendbot is not fetched): the built-in order
    git(tmp_path, "clone", "-q", str(root), "clone")
    assert git(tmp_path / "clone", "for-each-ref", "refs/mendbot") == ""
    built_in = fix(tmp_path / "clone")
    assert built_in["extra"]["learned_priors"] == {"enabled": True, "runs": 0, "multipliers": {}}

    learned = fix(root)
    assert "priors learned from 1 earlier run(s) here" in learned["stderr"]
    applied = learned["extra"]["learned_priors"]
    assert applied["enabled"] is True and applied["runs"] == 1
    assert applied["multipliers"]["LOGIC"]["swap-operands"] == HIGHEST
    git(root, "branch", "-D", learned["branch"])

    switched_off = fix(root, "--no-learned-priors")
    assert switched_off["extra"]["learned_priors"] == {
        "enabled": False,
        "runs": 0,
        "multipliers": {},
    }
    assert "priors learned" not in switched_off["stderr"]

    built_in_ranks, built_in_kept = candidate_ranks(tmp_path / "clone", built_in["run_id"])
    learned_ranks, learned_kept = candidate_ranks(root, learned["run_id"])
    off_ranks, off_kept = candidate_ranks(root, switched_off["run_id"])
    # the swap of operands that paid off before is proposed earlier than the built-in order has it
    assert learned_kept < built_in_kept
    assert learned_ranks != {d: r for d, r in built_in_ranks.items() if d in learned_ranks}
    # switched off, the order is the built-in one, candidate for candidate
    assert off_kept == built_in_kept
    shared = set(off_ranks) & set(built_in_ranks)
    assert len(shared) > 10
    assert {d: off_ranks[d] for d in shared} == {d: built_in_ranks[d] for d in shared}
