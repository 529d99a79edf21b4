"""A test run as the run's records keep it: bounded, whatever the size of the suite.

A run of a few hundred tests lists every test's outcome. A bigger one lists the tests that
did not pass (failing ones in full; skipped and not-run ones up to a limit) and counts the
rest, saying that a test it does not list passed: on a suite of thousands of tests, the ones
a repair is about are the few that fail or change, and a record that names every passing
test grows with the suite (megabytes per run, in the output of ``--json`` and in every run
stored under ``refs/mendbot/runs``).

``ListedOutcomes`` reads either form back: a test the summary does not list has the outcome
the summary gives for unlisted tests (or none, in a complete listing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from bot.models import Outcome, TestRun

FULL_LISTING = 300  # a run of at most this many tests lists them all
QUIET_LISTED = 100  # skipped and not-run tests named in a bigger run; the others are counted
UNLISTED = "passed"


def run_summary(run: TestRun) -> dict[str, object]:
    """The record of a test run: counts, failing tests and collection errors, and the
    outcomes of every test or (in a big run) of the tests that did not pass."""
    results = run.results
    if len(results) <= FULL_LISTING:
        listed = {r.nodeid: r.outcome.value for r in results}
        unlisted: dict[str, object] = {}
    else:
        quiet = [r for r in results if r.outcome is not Outcome.PASSED and not r.outcome.is_bad]
        listed = {r.nodeid: r.outcome.value for r in results if r.outcome.is_bad}
        listed.update((r.nodeid, r.outcome.value) for r in quiet[:QUIET_LISTED])
        unlisted = {
            "unlisted": UNLISTED,
            "unlisted_note": f"{len(results) - len(listed)} tests are not listed: they passed"
            + (
                f", but for {len(quiet) - QUIET_LISTED} skipped or not run (see counts)"
                if len(quiet) > QUIET_LISTED
                else ""
            ),
        }
    return {
        "passed": len(run.passing),
        "failing": list(run.failing),
        "collection_errors": [e.path for e in run.collection_errors],
        "duration": round(run.duration, 3),
        "timed_out": run.timed_out,
        "total": len(results),
        "counts": dict(sorted(Counter(r.outcome.value for r in results).items())),
        "outcomes": listed,
        **unlisted,
    }


class ListedOutcomes(Mapping[str, str]):
    """Outcomes by test from a run summary. Iterating gives the listed tests; looking up a
    test that is not listed gives the summary's outcome for unlisted tests (KeyError in a
    complete listing, so ``get`` gives None: the test was not in the run)."""

    def __init__(self, listed: Mapping[str, str], unlisted: str | None = None) -> None:
        self.listed = dict(listed)
        self.unlisted = unlisted

    @classmethod
    def of(cls, summary: object) -> ListedOutcomes:
        if not isinstance(summary, Mapping):
            return cls({})
        outcomes = summary.get("outcomes")
        if not isinstance(outcomes, Mapping):
            return cls({})
        unlisted = summary.get("unlisted")
        return cls(
            {str(k): str(v) for k, v in outcomes.items()},
            str(unlisted) if isinstance(unlisted, str) else None,
        )

    def __getitem__(self, test: str) -> str:
        if test in self.listed:
            return self.listed[test]
        if self.unlisted is None:
            raise KeyError(test)
        return self.unlisted

    def __iter__(self) -> Iterator[str]:
        return iter(self.listed)

    def __len__(self) -> int:
        return len(self.listed)

    def __bool__(self) -> bool:
        return bool(self.listed) or self.unlisted is not None

    def counts(self, summary: Mapping[str, Any] | None = None) -> Counter[str]:
        """Tests by outcome: the summary's counts where it has them, else the listed ones."""
        found = summary.get("counts") if isinstance(summary, Mapping) else None
        if isinstance(found, Mapping):
            return Counter({str(k): int(v) for k, v in found.items() if isinstance(v, int)})
        return Counter(self.listed.values())
