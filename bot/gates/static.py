"""Static gates: the linters and checkers the repository already uses, and an import check.

A tool runs only when the repository configures it (ruff: ``[tool.ruff]``, ``ruff.toml`` or
``.ruff.toml``; mypy: ``[tool.mypy]``, ``mypy.ini``, ``.mypy.ini`` or ``[mypy]`` in
``setup.cfg``; bandit: ``[tool.bandit]`` or ``.bandit``), and it runs where the tests run (the
sandbox, with ``python -m <tool>``): a tool that is not installed there is reported as not
run. Each tool checks the changed files before and after a candidate; the candidate may not
add findings. Findings are compared as (file, code, message), counted, so a finding that only
moved to another line is not new, and a second copy of an existing one is.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bot.gates.base import GateResult, failed, not_run, passed
from bot.models import ProcessResult
from bot.sandbox.base import PYTHON_PLACEHOLDER, Sandbox, SandboxCommand

Finding = tuple[str, str, str]  # (project-relative file, code, message)
TOOL_TIMEOUT = 120.0
MYPY_LINE = re.compile(
    r"^(?P<file>[^:\n]+\.pyi?):(?P<line>\d+)(?::\d+)?(?::\d+:\d+)?: (?P<severity>error|warning): "
    r"(?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)


def _pyproject_tables(directory: Path) -> Mapping[str, object]:
    path = directory / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
        return {}
    return tool if isinstance(tool, dict) else {}


def _setup_cfg_has(directory: Path, section: str) -> bool:
    path = directory / "setup.cfg"
    if not path.is_file():
        return False
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return False
    return parser.has_section(section)


def _config_dirs(project_dir: Path, root: Path) -> list[Path]:
    """The project folder and its parents up to the repository top level, nearest first."""
    found = [project_dir]
    current = project_dir
    while current != root and root in current.parents:
        current = current.parent
        found.append(current)
    return found


def _relative(path: str, project_dir: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.resolve().relative_to(project_dir.resolve()).as_posix()
        except ValueError:
            return candidate.as_posix()
    return PurePosixPath(path).as_posix().removeprefix("./")


@dataclass(frozen=True)
class Tool:
    name: str
    configured: Callable[[Path], str | None]  # folder -> the config it found, or None
    arguments: Callable[[str, Path], list[str]]  # (config found, scratch) -> options
    parse: Callable[[ProcessResult, Path], list[Finding] | None]  # None: the run failed


def _ruff_config(directory: Path) -> str | None:
    for name in ("ruff.toml", ".ruff.toml"):
        if (directory / name).is_file():
            return name
    return "pyproject.toml" if "ruff" in _pyproject_tables(directory) else None


def _mypy_config(directory: Path) -> str | None:
    for name in ("mypy.ini", ".mypy.ini"):
        if (directory / name).is_file():
            return name
    if "mypy" in _pyproject_tables(directory):
        return "pyproject.toml"
    return "setup.cfg" if _setup_cfg_has(directory, "mypy") else None


def _bandit_config(directory: Path) -> str | None:
    if (directory / ".bandit").is_file():
        return ".bandit"
    return "pyproject.toml" if "bandit" in _pyproject_tables(directory) else None


def _parse_ruff(result: ProcessResult, project_dir: Path) -> list[Finding] | None:
    try:
        items = json.loads(result.stdout or "[]")
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    return [
        (
            _relative(str(item.get("filename", "")), project_dir),
            str(item.get("code") or ""),
            str(item.get("message", "")),
        )
        for item in items
        if isinstance(item, dict)
    ]


def _parse_mypy(result: ProcessResult, project_dir: Path) -> list[Finding] | None:
    if result.returncode not in (0, 1):
        return None
    found: list[Finding] = []
    for line in result.stdout.splitlines():
        match = MYPY_LINE.match(line.strip())
        if match and match.group("severity") == "error":
            found.append(
                (
                    _relative(match.group("file"), project_dir),
                    match.group("code") or "",
                    match.group("message"),
                )
            )
    return found


def _parse_bandit(result: ProcessResult, project_dir: Path) -> list[Finding] | None:
    try:
        report = json.loads(result.stdout or "{}")
    except ValueError:
        return None
    if not isinstance(report, dict):
        return None
    return [
        (
            _relative(str(item.get("filename", "")), project_dir),
            str(item.get("test_id", "")),
            str(item.get("issue_text", "")),
        )
        for item in report.get("results", [])
        if isinstance(item, dict)
    ]


def _bandit_arguments(config: str, scratch: Path) -> list[str]:
    if config == ".bandit":
        return ["-f", "json", "-q", "--ini", ".bandit"]
    return ["-f", "json", "-q", "-c", config]


TOOLS: tuple[Tool, ...] = (
    Tool(
        "ruff",
        _ruff_config,
        lambda config, scratch: [
            "check",
            "--output-format=json",
            "--no-cache",
            "--exit-zero",
            "--force-exclude",
        ],
        _parse_ruff,
    ),
    Tool(
        "mypy",
        _mypy_config,
        lambda config, scratch: [
            "--no-error-summary",
            "--show-error-codes",
            "--no-color-output",
            "--no-pretty",
            "--hide-error-context",
            f"--cache-dir={scratch / 'mypy-cache'}",
        ],
        _parse_mypy,
    ),
    Tool("bandit", _bandit_config, _bandit_arguments, _parse_bandit),
)


@dataclass
class StaticChecker:
    """Runs the configured tools and the import check, in the sandbox, caching base results."""

    sandbox: Sandbox
    root: Path  # the worktree top level
    project_dir: Path
    support_dir: Path
    scratch: Path  # a folder the sandbox may write (tool caches, result files)
    missing: dict[str, str] = field(default_factory=dict)  # tool -> why it cannot run
    _cache: dict[tuple[str, str], Counter[Finding]] = field(default_factory=dict)
    _configs: dict[str, tuple[Path, str]] | None = None

    def configured(self) -> dict[str, tuple[Path, str]]:
        """Tool name -> (folder whose config applies, config file name)."""
        if self._configs is None:
            self._configs = {}
            for tool in TOOLS:
                for directory in _config_dirs(self.project_dir, self.root):
                    config = tool.configured(directory)
                    if config:
                        self._configs[tool.name] = (directory, config)
                        break
        return self._configs

    def _run(self, argv: list[str], workdir: Path, timeout: float) -> ProcessResult:
        self.scratch.mkdir(parents=True, exist_ok=True)
        return self.sandbox.run(
            SandboxCommand(
                argv=argv,
                root=self.root,
                workdir=workdir,
                result_dir=self.scratch,
                support_dir=self.support_dir,
                env={},
                timeout=timeout,
            )
        )

    def findings(self, tool: Tool, texts: Mapping[str, str]) -> Counter[Finding] | str:
        """Findings of ``tool`` on the files (project-relative) as they are on disk now.

        ``texts`` are the files' current contents, used as the cache key. Returns a
        message instead when the tool cannot run.
        """
        if tool.name in self.missing:
            return self.missing[tool.name]
        directory, config = self.configured()[tool.name]
        key = hashlib.sha256(
            json.dumps(sorted(texts.items()), ensure_ascii=False).encode()
        ).hexdigest()
        cached = self._cache.get((tool.name, key))
        if cached is not None:
            return cached
        files = [str((self.project_dir / path).resolve()) for path in sorted(texts)]
        argv = [
            PYTHON_PLACEHOLDER,
            "-m",
            tool.name,
            *tool.arguments(config, self.scratch),
            *files,
        ]
        result = self._run(argv, directory, TOOL_TIMEOUT)
        output = result.stdout + result.stderr
        if f"No module named {tool.name}" in output:
            self.missing[tool.name] = f"{tool.name} is not installed where the tests run"
            return self.missing[tool.name]
        if result.timed_out:
            return f"{tool.name} did not finish within {TOOL_TIMEOUT:.0f}s"
        parsed = tool.parse(result, self.project_dir)
        if parsed is None:
            tail = (output.strip().splitlines() or ["no output"])[-1][:200]
            return f"{tool.name} failed (exit {result.returncode}): {tail}"
        counted = Counter(parsed)
        self._cache[(tool.name, key)] = counted
        return counted

    def tools(self) -> list[Tool]:
        configured = self.configured()
        return [tool for tool in TOOLS if tool.name in configured]


def module_name(path: str) -> str | None:
    """The importable name of a project-relative Python file (``src/`` layouts included)."""
    posix = PurePosixPath(path)
    if posix.suffix != ".py":
        return None
    parts = list(posix.with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


def compare(name: str, before: Counter[Finding] | str, after: Counter[Finding] | str) -> GateResult:
    """The gate result for one tool from its findings before and after a candidate."""
    if isinstance(after, str):
        return not_run(name, after)
    if isinstance(before, str):
        return not_run(name, before)
    added = after - before
    if added:
        shown = "; ".join(f"{file}: {code} {message}".strip() for file, code, message in added)
        count = sum(added.values())
        return failed(name, f"{count} new finding{'s' if count != 1 else ''}: {shown[:400]}")
    fixed = sum((before - after).values())
    detail = f"no new findings ({sum(after.values())} in the changed files"
    detail += f", {fixed} fewer than before)" if fixed else ")"
    return passed(name, detail)
