"""The gates of one repair run, in the order the pipeline applies them to a candidate.

Before screening (cheap, static): the overfitting guards' rejections, and the test-quality
check of any test file a candidate writes. While proving (each needs the candidate on disk
or a real run): the repository's linters and checkers on the changed files before and after,
written tests failing before the fix, the import check, coverage of the changed lines, and
the final runs of the whole suite.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.analysis.classify import is_test_path
from bot.gates import coverage as coverage_gate
from bot.gates.base import GateResult, failed, not_run, passed
from bot.gates.flaky import final_runs, mask
from bot.gates.overfit import Literal, inspect_candidate, mocked_names
from bot.gates.static import Finding, StaticChecker, compare, module_name
from bot.gates.test_quality import check_test_source, modules_of, written_test_ids
from bot.models import Candidate, Outcome, TestRun
from bot.sandbox.base import PYTHON_PLACEHOLDER, SandboxCommand
from bot.testing.runner import TestRunner

IMPORT_TIMEOUT = 30.0


@dataclass
class Keeper:
    runner: TestRunner
    static: StaticChecker
    excluded: frozenset[str] = frozenset()  # flaky and order-dependent tests
    rejected_kinds: Counter[str] = field(default_factory=Counter)
    _mocked_cache: tuple[Mapping[str, str], frozenset[str]] | None = None

    @classmethod
    def create(cls, runner: TestRunner) -> Keeper:
        static = StaticChecker(
            sandbox=runner.sandbox,
            root=runner.root,
            project_dir=runner.project_dir,
            support_dir=runner.support_dir,
            scratch=runner.scratch / "static",
        )
        return cls(runner=runner, static=static)

    # ------------------------------------------------------------ before screening

    def refusal(
        self,
        candidate: Candidate,
        sources: Mapping[str, str],
        test_sources: Mapping[str, str],
        literals: frozenset[Literal],
    ) -> tuple[str, str]:
        """(stage, reason) when the candidate is refused before any test runs, else ("", "")."""
        edits = [
            (e.path, sources.get(e.path, ""), e.new_text)
            for e in candidate.edits
            if not is_test_path(e.path)
        ]
        rejected = inspect_candidate(edits, literals, self._mocked(test_sources)).rejected
        if rejected is not None:
            self.rejected_kinds[rejected.kind] += 1
            return "overfit", f"overfitting: {rejected.describe()}"
        written = [
            e
            for e in candidate.edits
            if is_test_path(e.path)
            and e.path.endswith(".py")
            and Path(e.path).name != "conftest.py"
        ]
        if not written:
            return "", ""
        modules = modules_of(sources)
        names = {
            name
            for text in sources.values()
            for name in re.findall(r"^(?:def|class)\s+(\w+)", text, re.M)
        }
        for edit in written:
            old = test_sources.get(edit.path)
            new_problems = check_test_source(
                edit.new_text, code_modules=modules, code_names=names, path=edit.path
            ).problems
            old_problems: tuple[str, ...] = ()
            if old is not None:
                old_problems = check_test_source(
                    old, code_modules=modules, code_names=names, path=edit.path
                ).problems
            added = [p for p in new_problems if p not in old_problems]
            if added:
                return "test-quality", "the written test is not a real test: " + "; ".join(added)
        return "", ""

    def _mocked(self, test_sources: Mapping[str, str]) -> frozenset[str]:
        """The names the tests patch or mock (worked out once per round's test sources)."""
        if self._mocked_cache is None or self._mocked_cache[0] is not test_sources:
            self._mocked_cache = (test_sources, mocked_names(test_sources))
        return self._mocked_cache[1]

    # ------------------------------------------------------------ static tools

    def python_files(self, candidate: Candidate) -> list[str]:
        return [e.path for e in candidate.edits if e.path.endswith(".py")]

    def static_before(self, candidate: Candidate) -> dict[str, Counter[Finding] | str]:
        """Findings of each configured tool on the candidate's files as they are now."""
        found: dict[str, Counter[Finding] | str] = {}
        existing = {
            path: (self.runner.project_dir / path).read_text(encoding="utf-8")
            for path in self.python_files(candidate)
            if (self.runner.project_dir / path).is_file()
        }
        for tool in self.static.tools():
            found[tool.name] = self.static.findings(tool, existing) if existing else Counter()
        return found

    def static_after(
        self, candidate: Candidate, before: Mapping[str, Counter[Finding] | str]
    ) -> list[GateResult]:
        texts = {e.path: e.new_text for e in candidate.edits if e.path.endswith(".py")}
        gates = []
        for tool in self.static.tools():
            after = self.static.findings(tool, texts) if texts else Counter()
            gates.append(compare(tool.name, before.get(tool.name, Counter()), after))
        return gates

    # ------------------------------------------------------------ written tests

    def written_tests(self, candidate: Candidate, test_sources: Mapping[str, str]) -> list[str]:
        """Node ids of the test functions the candidate adds."""
        added: list[str] = []
        for edit in candidate.edits:
            if not is_test_path(edit.path) or not edit.path.endswith(".py"):
                continue
            old = set(written_test_ids(edit.path, test_sources.get(edit.path, "")))
            added += [n for n in written_test_ids(edit.path, edit.new_text) if n not in old]
        return added

    @staticmethod
    def written_tests_before(run: TestRun, written: Sequence[str]) -> GateResult:
        """The written tests, run against the code before the fix, must fail."""
        name = "written tests fail before the fix"
        by_id = run.by_id()
        passing = [n for n in written if n in by_id and by_id[n].outcome is Outcome.PASSED]
        missing = [n for n in written if n not in by_id]
        if passing:
            return failed(name, f"{', '.join(passing[:3])} already pass without the fix")
        if missing or run.collection_errors:
            return failed(name, "the written tests did not run: " + ", ".join(missing[:3]))
        return passed(name, f"{len(written)} written test(s) fail without the fix")

    @staticmethod
    def written_tests_after(run: TestRun, written: Sequence[str]) -> GateResult:
        name = "written tests pass after the fix"
        by_id = run.by_id()
        bad = [n for n in written if n not in by_id or by_id[n].outcome is not Outcome.PASSED]
        if bad:
            return failed(name, f"{', '.join(bad[:3])} do not pass with the fix")
        return passed(name, f"{len(written)} written test(s) pass with the fix")

    # ------------------------------------------------------------ imports

    def _import_errors(self, modules: Mapping[str, str | None]) -> dict[str, str] | str:
        """Import each module (from its source text when given) in a fresh interpreter."""
        script = (
            "import importlib, importlib.util, json, os, sys\n"
            "sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), 'src')]\n"
            "wanted = json.loads(sys.argv[1])\n"
            "found = {}\n"
            "for name, (path, source) in wanted.items():\n"
            "    try:\n"
            "        if source is None:\n"
            "            importlib.import_module(name)\n"
            "        else:\n"
            "            parent = name.rpartition('.')[0]\n"
            "            if parent:\n"
            "                importlib.import_module(parent)\n"
            "            spec = importlib.util.spec_from_loader(name, loader=None, origin=path)\n"
            "            module = importlib.util.module_from_spec(spec)\n"
            "            module.__file__ = path\n"
            "            sys.modules[name] = module\n"
            "            exec(compile(source, path, 'exec'), module.__dict__)\n"
            "        found[name] = ''\n"
            "    except BaseException as error:\n"
            "        found[name] = f'{type(error).__name__}: {error}'[:300]\n"
            "print('MENDBOT-IMPORTS ' + json.dumps(found))\n"
        )
        payload = {
            name: [str(self.runner.project_dir / path), text]
            for name, (path, text) in _named(modules).items()
        }
        result_dir = self.static.scratch
        result_dir.mkdir(parents=True, exist_ok=True)
        process = self.runner.sandbox.run(
            SandboxCommand(
                argv=[PYTHON_PLACEHOLDER, "-c", script, json.dumps(payload)],
                root=self.runner.root,
                workdir=self.runner.project_dir,
                result_dir=result_dir,
                support_dir=self.runner.support_dir,
                env={},
                timeout=IMPORT_TIMEOUT,
            )
        )
        for line in reversed(process.stdout.splitlines()):
            if line.startswith("MENDBOT-IMPORTS "):
                loaded = json.loads(line.removeprefix("MENDBOT-IMPORTS "))
                return {str(k): str(v) for k, v in loaded.items()}
        tail = ((process.stdout + process.stderr).strip().splitlines() or ["no output"])[-1]
        return f"the import check could not run: {tail[:200]}"

    def imports(
        self, candidate: Candidate, old_texts: Mapping[str, str], run: TestRun
    ) -> GateResult:
        """Every changed module imports, as far as it did before the change.

        A module the passing tests ran code in was imported by them (a module that fails to
        import shows as a collection error); the others are imported on their own.
        """
        name = "import"
        ran = coverage_gate.executed(mask(run, self.excluded))
        changed = [
            e.path
            for e in candidate.edits
            if e.path.endswith(".py") and not is_test_path(e.path) and module_name(e.path)
        ]
        if not changed:
            return passed(name, "no module changed")
        by_tests = [p for p in changed if ran.get(p) and self.runner.coverage_available]
        alone = [p for p in changed if p not in by_tests]
        if not alone:
            return passed(name, f"{len(by_tests)} changed module(s) imported by the tests")
        after = self._import_errors({p: None for p in alone})
        if isinstance(after, str):
            return not_run(name, after)
        broken = {module: error for module, error in after.items() if error}
        if broken:
            before = self._import_errors({p: old_texts[p] for p in alone if p in old_texts})
            if isinstance(before, str):
                return not_run(name, before)
            new = {m: e for m, e in broken.items() if not before.get(m)}
            if new:
                shown = "; ".join(f"{m}: {e}" for m, e in new.items())
                return failed(name, f"the change breaks importing {shown[:300]}")
        detail = f"{len(alone)} changed module(s) imported on their own"
        if by_tests:
            detail += f", {len(by_tests)} by the tests"
        if broken:
            detail += f" ({len(broken)} failed to import before the change too)"
        return passed(name, detail)

    # ------------------------------------------------------------ coverage

    def coverage(
        self,
        old_sources: Mapping[str, str],
        new_sources: Mapping[str, str],
        before: TestRun,
        after: TestRun,
    ) -> tuple[list[GateResult], coverage_gate.ChangeCoverage | None]:
        if not self.runner.coverage_available:
            why = "no per-test coverage (pytest-cov is not installed where the tests run)"
            return coverage_gate.gate(None, why), None
        measured = coverage_gate.measure(
            old_sources,
            new_sources,
            coverage_gate.executed(mask(before, self.excluded)),
            coverage_gate.executed(mask(after, self.excluded)),
        )
        return coverage_gate.gate(measured), measured

    # ------------------------------------------------------------ final runs

    def final(self, count: int, *, per_test_timeout: float, deadline: float) -> GateResult:
        return final_runs(
            self.runner,
            count,
            self.excluded,
            per_test_timeout=per_test_timeout,
            deadline=deadline,
        )


def _named(modules: Mapping[str, str | None]) -> dict[str, tuple[str, str | None]]:
    found: dict[str, tuple[str, str | None]] = {}
    for path, text in modules.items():
        name = module_name(path)
        if name:
            found[name] = (path, text)
    return found
