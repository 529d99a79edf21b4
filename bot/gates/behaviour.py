"""Behavioural comparison of two or more versions of a function, through the test sandbox.

The passing tests that run a function are run once more with the probe plugin
(``probe_plugin.py``, loaded as ``mendbot_probe``), which records the arguments of the
function's calls and then calls the original and every variant on those arguments and on
variations of them. Project code only ever runs in the sandbox, like the tests.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.gates import probe_plugin
from bot.sandbox.base import PYTHON_PLACEHOLDER, Sandbox, SandboxCommand
from bot.testing.runner import copy_plugin

PROBE_MODULE = "mendbot_probe"


@dataclass(frozen=True)
class Target:
    key: str
    file: str  # project-relative posix path
    qualname: str
    original: str  # the module text the variants are compared with
    variants: Mapping[str, str]  # variant id -> module text


@dataclass(frozen=True)
class Difference:
    recorded: int  # recorded calls on which the variant differs from the original
    variations: int  # generated variations on which it differs


@dataclass(frozen=True)
class TargetResult:
    recorded: int = 0  # recorded calls compared
    variations: int = 0  # variations compared
    differences: Mapping[str, Difference] = field(default_factory=dict)
    examples: Mapping[str, str] = field(default_factory=dict)
    unloadable: tuple[str, ...] = ()
    error: str = ""


@dataclass
class Prober:
    """Runs the probe in the sandbox; one per repair run (it owns a support folder)."""

    sandbox: Sandbox
    root: Path
    project_dir: Path
    scratch: Path
    pytest_options: Sequence[str] = ()
    autoload: bool = True
    runs: int = 0

    def __post_init__(self) -> None:
        self.support = self.scratch / "probe-support"
        self.support.mkdir(parents=True, exist_ok=True)
        shutil.copy2(probe_plugin.__file__, self.support / f"{PROBE_MODULE}.py")
        copy_plugin(self.support)

    def probe(
        self,
        targets: Sequence[Target],
        tests: Sequence[str],
        *,
        same_path: bool,
        budget: float = 3.0,
        max_calls: int = 12,
        variations: int = 10,
        call_timeout: float = 0.25,
        test_timeout: float = 5.0,
    ) -> dict[str, TargetResult] | str:
        """Results per target key, or why the probe could not run."""
        if not targets or not tests:
            return "no test runs the changed functions"
        self.runs += 1
        result_dir = self.scratch / f"probe-{self.runs}"
        result_dir.mkdir(parents=True, exist_ok=True)
        spec = result_dir / "spec.json"
        out = result_dir / "probe.json"
        spec.write_text(
            json.dumps(
                {
                    "targets": [
                        {
                            "key": t.key,
                            "file": str((self.project_dir / t.file).resolve()),
                            "qualname": t.qualname,
                            "original": t.original,
                            "variants": dict(t.variants),
                        }
                        for t in targets
                    ],
                    "same_path": same_path,
                    "budget": budget,
                    "max_calls": max_calls,
                    "variations": variations,
                    "call_timeout": call_timeout,
                }
            ),
            encoding="utf-8",
        )
        env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"} if not self.autoload else {}
        argv = [
            PYTHON_PLACEHOLDER,
            "-m",
            "pytest",
            "-p",
            "mendbot_pytest",
            "-p",
            PROBE_MODULE,
            "-p",
            "no:cacheprovider",
            "-q",
            "--tb=no",
            f"--mendbot-test-timeout={test_timeout:.3f}",
            f"--mendbot-probe={spec}",
            f"--mendbot-probe-out={out}",
            *self.pytest_options,
            *tests,
        ]
        process = self.sandbox.run(
            SandboxCommand(
                argv=argv,
                root=self.root,
                workdir=self.project_dir,
                result_dir=result_dir,
                support_dir=self.support,
                env=env,
                timeout=budget + test_timeout * len(tests) + 30.0,
            )
        )
        if not out.exists():
            tail = ((process.stdout + process.stderr).strip().splitlines() or ["no output"])[-1]
            return f"the probe did not report (exit {process.returncode}): {tail[:200]}"
        try:
            raw = json.loads(out.read_text(encoding="utf-8"))
        except ValueError as error:
            return f"the probe's report is not JSON: {error}"
        return target_results(raw) if isinstance(raw, dict) else "the probe's report is malformed"


def target_results(raw: Mapping[str, object]) -> dict[str, TargetResult]:
    """Results per target key from a probe report (the plugin's JSON, read back)."""
    return {str(key): _target_result(value) for key, value in raw.items()}


def _target_result(raw: object) -> TargetResult:
    if not isinstance(raw, dict):
        return TargetResult(error="malformed probe result")
    differences = {
        str(key): Difference(int(value.get("recorded", 0)), int(value.get("variation", 0)))
        for key, value in dict(raw.get("differences", {})).items()
        if isinstance(value, dict)
    }
    return TargetResult(
        recorded=int(raw.get("recorded", 0)),
        variations=int(raw.get("variations", 0)),
        differences=differences,
        examples={str(k): str(v) for k, v in dict(raw.get("examples", {})).items()},
        unloadable=tuple(str(x) for x in raw.get("unloadable", [])),
        error=str(raw.get("error", "")),
    )
