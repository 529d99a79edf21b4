"""Run history end to end: a real run is stored in git, then listed, shown, compared and
inspected again from a clone that fetched refs/mendbot/*, all through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import git
from history_fixtures import (  # noqa: F401 - example_run_fixture provides example_run
    SECRET_VALUE,
    TOKEN_SHAPED,
    CliResult,
    ExampleRun,
    cli,
    cli_here,
    example_run_fixture,
    make_project,
)

from bot import history
from bot.trace import read_trace


def test_runs_lists_the_run(example_run: ExampleRun) -> None:
    listed = cli("runs", "--json", cwd=example_run.root)
    assert listed.code == 0, listed.stderr
    (run,) = listed.json()
    result = example_run.result
    assert run["run_id"] == result["run_id"]
    assert run["stored"] is True
    assert run["status"] == "fixed"
    assert run["trigger"] == "cli"
    assert run["base"] == result["base"] and run["head"] == result["head"]
    assert run["branch"] == result["branch"]
    assert (run["rounds"], run["kept"]) == (3, 2)
    assert run["duration_s"] == result["duration_s"]
    assert run["engines"] == ["templates"]
    assert isinstance(run["started"], float)

    text = cli("runs", str(example_run.root), cwd=example_run.root.parent)
    assert text.code == 0, text.stderr
    header, line = text.stdout.splitlines()
    for column in (
        "when",
        "run",
        "trigger",
        "base",
        "branch",
        "status",
        "rounds",
        "time",
        "engine",
    ):
        assert column in header.split()
    assert example_run.run_id in line and result["base"][:10] in line
    assert result["branch"] in line and "fixed" in line and "3 (2 kept)" in line
    assert "templates" in line


def test_show_prints_each_round_with_verdict_diff_flips_and_rejections(
    example_run: ExampleRun,
) -> None:
    shown = cli("show", "last", cwd=example_run.root)
    assert shown.code == 0, shown.stderr
    text = shown.stdout
    assert text.startswith(f"run {example_run.run_id}: fixed")
    first, second, third = (text.index(f"round {n}: ") for n in (1, 2, 2))
    assert "round 1: kept" in text
    rolled = text.index("round 2: rolled back")
    kept = text.index("round 2: kept")
    assert first < rolled < kept and second == rolled and third == rolled
    rolled_part = text[rolled:kept]
    assert f"kept at refs/mendbot/rejected/{example_run.run_id}/2" in rolled_part
    assert "verdict: breaks tests/test_shapes.py::test_house_style" in rolled_part
    assert "-        return low\n    +        return high" in rolled_part
    assert "tests/test_shapes.py::test_house_style: pass -> fail" in rolled_part
    assert "tests/test_shapes.py::test_above: fail -> pass" in rolled_part
    kept_part = text[kept:]
    assert "root cause:" in kept_part and "Failure class: LOGIC" in kept_part
    assert "+    if value >= high:" in kept_part
    assert "rejected candidates, per template:" in kept_part
    assert "the failing tests still fail" in kept_part
    assert "-    return [min(v + factor" in text[first:rolled]


def test_show_json_has_rounds_tests_and_rejected_attempts(example_run: ExampleRun) -> None:
    shown = cli("show", example_run.run_id[:17], "--json", cwd=example_run.root)
    assert shown.code == 0, shown.stderr
    data = shown.json()
    assert data["run"]["run_id"] == example_run.run_id
    assert data["stored_as"] == git(example_run.root, "rev-parse", example_run.ref).strip()
    rounds = data["rounds"]
    assert [(r["round"], r["verdict"]) for r in rounds] == [
        (1, "kept"),
        (2, "rolled back"),
        (2, "kept"),
    ]
    assert rounds[0]["commit"] == example_run.result["rounds"][0]["commit"]
    assert rounds[1]["rejected_ref"] == f"refs/mendbot/rejected/{example_run.run_id}/2"
    assert (
        git(example_run.root, "rev-parse", rounds[1]["rejected_ref"]).strip()
        == (rounds[1]["commit"])
    )
    assert {
        "test": "tests/test_shapes.py::test_house_style",
        "before": "pass",
        "after": "fail",
    } in (rounds[1]["flipped"])
    assert rounds[2]["flipped"] == [
        {"test": "tests/test_shapes.py::test_above", "before": "fail", "after": "pass"}
    ]
    assert "+        return high" in rounds[1]["diff"]
    assert "+    if value >= high:" in rounds[2]["diff"]
    assert rounds[2]["root_cause"].startswith("Failure class: LOGIC")
    assert data["rejected_candidates"], "the run tried and rejected candidates"
    for rejected in data["rejected_candidates"].values():
        assert rejected["rejected"] == sum(rejected["reasons"].values()) or rejected["reasons"]
    columns = data["tests"]["columns"]
    assert columns[0] == "base" and columns[-1] == "final" and len(columns) == 5
    house = data["tests"]["rows"]["tests/test_shapes.py::test_house_style"]
    assert [house[c] for c in columns] == ["pass", "pass", "fail", "pass", "pass"]
    scale = data["tests"]["rows"]["tests/test_shapes.py::test_scale"]
    assert [scale[c] for c in columns] == ["fail", "pass", "pass", "pass", "pass"]
    spans = [span["label"] for span in data["timeline"]]
    assert "baseline" in spans and "round 2: verify (rolled back)" in spans
    assert sorted(data["fixed_tests"]) == [
        "tests/test_shapes.py::test_above",
        "tests/test_shapes.py::test_scale",
    ]


def test_the_run_is_one_commit_that_keeps_every_attempt_reachable(
    example_run: ExampleRun,
) -> None:
    root, ref = example_run.root, example_run.ref
    tree = git(root, "ls-tree", "--name-only", ref).split()
    assert tree == ["result.json", "run.json", "trace.jsonl"]
    parents = git(root, "rev-list", "--parents", "-n", "1", ref).split()[1:]
    rolled_back = git(root, "rev-parse", f"refs/mendbot/rejected/{example_run.run_id}/2").strip()
    assert parents == [example_run.result["head"], rolled_back]
    stored_rounds = example_run.stored_json("result.json")["rounds"]
    assert [(r["commit"], r["template"], r["rejected_ref"]) for r in stored_rounds] == [
        (r["commit"], r["template"], r["rejected_ref"]) for r in example_run.result["rounds"]
    ]
    events = [json.loads(line)["event"] for line in example_run.stored("trace.jsonl").splitlines()]
    assert events[0] == "run_start" and events[-1] == "run_end"
    assert events.count("round") == 3
    # the trace stays on disk too, next to the ref, and no run is left marked as running
    folder = Path(git(root, "rev-parse", "--git-common-dir").strip())
    folder = (root / folder if not folder.is_absolute() else folder) / "mendbot" / "runs"
    assert (folder / example_run.run_id / "trace.jsonl").is_file()
    assert not (folder / example_run.run_id / "pid").exists()


def test_a_run_made_elsewhere_is_inspected_after_fetching_its_refs(
    example_run: ExampleRun, tmp_path: Path
) -> None:
    """As for a run made in CI: only main and refs/mendbot/runs/* reach the remote (no
    branch, no rejected refs), and a fresh clone fetches them."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(
        example_run.root,
        "push",
        "-q",
        str(origin),
        "main",
        "refs/mendbot/runs/*:refs/mendbot/runs/*",
    )
    git(tmp_path, "clone", "-q", str(origin), "clone")
    clone = tmp_path / "clone"
    before = cli("runs", cwd=clone)
    assert before.code == 0 and "no mendbot runs yet" in before.stdout
    assert "git fetch origin 'refs/mendbot/*:refs/mendbot/*'" in before.stdout

    git(clone, "fetch", "-q", "origin", "refs/mendbot/*:refs/mendbot/*")

    (run,) = cli("runs", "--json", cwd=clone).json()
    assert run["run_id"] == example_run.run_id and run["status"] == "fixed"
    data = cli("show", "last", "--json", cwd=clone).json()
    assert all(r["diff"] for r in data["rounds"]), "every diff, the rolled-back one included"
    assert "+        return high" in data["rounds"][1]["diff"]
    assert (
        data["rounds"][1]["flipped"]
        == cli("show", "last", "--json", cwd=example_run.root).json()["rounds"][1]["flipped"]
    )
    report = cli("report", "last", "-o", str(tmp_path / "report.html"), cwd=clone)
    assert report.code == 0, report.stderr
    assert "return high" in (tmp_path / "report.html").read_text()


def test_unknown_ambiguous_and_missing_runs_are_clear_errors(
    example_run: ExampleRun,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def run(*args: str, cwd: Path) -> CliResult:
        return cli_here(*args, cwd=cwd, monkeypatch=monkeypatch, capsys=capsys)

    unknown = run("show", "19990101", cwd=example_run.root)
    assert unknown.code == 2
    assert "no run '19990101'" in unknown.stderr and "mendbot runs" in unknown.stderr
    empty = make_project(tmp_path / "empty", {"a.py": "A = 1\n"})
    none = run("show", "last", cwd=empty)
    assert none.code == 2 and "no mendbot runs yet" in none.stderr
    outside = run("runs", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert outside.code == 2 and "does not exist" in outside.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    not_git = run("stats", cwd=plain)
    assert not_git.code == 2 and "not inside a git repository" in not_git.stderr
    # two runs that share a prefix
    for run_id in ("20250101T000000-aaaaaa", "20250101T000000-aaaabb"):
        history.store_run(empty, run_id, [], {"status": "not_fixed"}, started=1.0, ended=2.0)
    ambiguous = run("show", "20250101T000000-aaaa", cwd=empty)
    assert ambiguous.code == 2 and "matches 2 runs" in ambiguous.stderr
    prefix = run("show", "20250101T000000-aaaab", "--json", cwd=empty)
    assert prefix.json()["run"]["run_id"] == "20250101T000000-aaaabb"
    (tmp_path / "a.txt").write_text("a file, not a folder\n")
    bad = run("report", "last", "-o", str(tmp_path / "a.txt" / "r.html"), cwd=empty)
    assert bad.code == 2 and "cannot write the report" in bad.stderr
    bad_id = run("show", "../../etc", cwd=empty)
    assert bad_id.code == 2


# -- trace hygiene ------------------------------------------------------------------------------
def test_secrets_never_land_in_the_stored_run(example_run: ExampleRun, tmp_path: Path) -> None:
    """The failing tests printed a token-shaped string and the value of MENDBOT_EXAMPLE_API_TOKEN;
    neither reaches the stored trace, result, listing, `show` or the HTML report."""
    stored = {name: example_run.stored(name) for name in ("trace.jsonl", "result.json", "run.json")}
    assert "deploy token ***" in stored["trace.jsonl"]  # the message is there, redacted
    assert "billing key ***" in stored["trace.jsonl"]
    assert "billing key ***" in stored["result.json"]
    shown = cli("show", "last", "--json", cwd=example_run.root).stdout
    listed = cli("runs", "--json", cwd=example_run.root).stdout
    cli("report", "last", "-o", str(tmp_path / "r.html"), cwd=example_run.root)
    page = (tmp_path / "r.html").read_text()
    for name, text in {**stored, "show": shown, "runs": listed, "report": page}.items():
        assert SECRET_VALUE not in text, name
        assert TOKEN_SHAPED not in text, name


def test_a_trace_written_without_redaction_is_redacted_when_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "repo", {"a.py": "A = 1\n"})
    monkeypatch.setenv("DEPLOY_PASSWORD", "hunter2-but-longer")
    raw = [
        {
            "t": 1.0,
            "event": "run_start",
            "run_id": "r1",
            "base": "x",
            "label": "hunter2-but-longer",
        },
        {"t": 2.0, "event": "analysis", "failures": [{"message": "ghp_" + "A1" * 18}]},
        {"t": 3.0, "event": "run_end", "status": "not_fixed"},
    ]
    commit = history.store_run(
        root, "20250101T000000-abcdef", raw, {"reason": "hunter2-but-longer"}
    )
    for name in ("trace.jsonl", "result.json", "run.json"):
        text = git(root, "cat-file", "blob", f"{commit}:{name}")
        assert "hunter2-but-longer" not in text and "ghp_" not in text, name
    assert git(root, "cat-file", "blob", f"{commit}:trace.jsonl").count("***") == 2


def test_the_stored_trace_is_bounded(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", {"a.py": "A = 1\n"})
    prompt = "x" * 5_000  # cut to 2,000 characters, and still too many of them to keep all
    events: list[dict[str, Any]] = [{"t": 1.0, "event": "run_start", "base": "b"}]
    events += [
        {"t": 2.0 + n, "event": "llm_call", "call_id": f"c{n}", "prompt": [{"content": prompt}]}
        for n in range(2_500)
    ]
    events += [{"t": 500.0 + n, "event": "candidate", "id": f"r1-t{n}"} for n in range(50)]
    events += [
        {"t": 900.0, "event": "round", "number": 1, "accepted": False, "reason": "y" * 50_000},
        {"t": 901.0, "event": "run_end", "status": "not_fixed"},
    ]
    huge = {"status": "fixed", "diff": "+x\n" * 1_000_000, "extra": {"baseline": {}}}
    commit = history.store_run(root, "20250101T000000-b16b16", events, huge)
    result = json.loads(git(root, "cat-file", "blob", f"{commit}:result.json"))
    assert result["status"] == "fixed" and result["diff"].endswith("chars cut]")
    assert len(result["diff"]) < 25_000  # the round commits hold the full diff
    text = git(root, "cat-file", "blob", f"{commit}:trace.jsonl")
    assert len(text.encode()) <= history.MAX_STORED_TRACE_BYTES
    kept = [json.loads(line) for line in text.splitlines()]
    names = [e["event"] for e in kept]
    assert names[0] == "run_start" and "run_end" in names and "round" in names
    assert names[-1] == "trace_truncated" and kept[-1]["dropped_records"] > 0
    assert all(len(json.dumps(e)) < 3_000 for e in kept)
    meta = json.loads(git(root, "cat-file", "blob", f"{commit}:run.json"))
    assert meta["trace"]["cut"] is True
    # small traces are stored whole
    small, cut = history.bounded_trace(events[:3], [])
    assert not cut and len(small.splitlines()) == 3


# -- statistics ---------------------------------------------------------------------------------
def test_stats_over_a_real_run(example_run: ExampleRun) -> None:
    done = cli("stats", "--json", cwd=example_run.root)
    assert done.code == 0, done.stderr
    data = done.json()
    assert data["runs"] == 1 and data["by_status"] == {"fixed": 1} and data["fix_rate"] == 1.0
    assert data["median_time_to_fix_s"] == example_run.result["duration_s"]
    assert data["median_rounds_to_fix"] == 2
    (logic,) = data["by_failure_class"]
    assert logic["failure_class"] == "LOGIC"
    assert (logic["runs"], logic["runs_fixed"], logic["tests"], logic["tests_fixed"]) == (
        1,
        1,
        2,
        2,
    )
    kept = [row for row in data["by_template"] if row["kept"]]
    assert sorted(row["template"] for row in kept) == sorted(
        r["template"] for r in example_run.result["rounds"] if r["commit"]
    )
    assert data["template_order"] == [row["template"] for row in kept]
    rolled = [row for row in data["by_template"] if row["rolled_back"]]
    assert [row["template"] for row in rolled] == [example_run.result["rounds"][1]["template"]]
    text = cli("stats", cwd=example_run.root).stdout
    assert "1 run(s): 1 fixed" in text and "by failure class:" in text and "LOGIC" in text
    assert "by template (what pays off first):" in text


def test_stats_compares_runs_templates_and_models(tmp_path: Path) -> None:
    """Three stored runs (two with model calls) aggregate into rates per class, template, model."""
    root = make_project(tmp_path / "repo", {"a.py": "A = 1\n"})

    def run(run_id: str, status: str, duration: float, klass: str, kept: bool) -> None:
        events = [
            {"t": 1.0, "event": "run_start", "base": "b", "trigger": "cli"},
            {
                "t": 2.0,
                "event": "analysis",
                "round": 1,
                "failures": [{"test": "t::a", "class": klass}, {"test": "t::b", "class": "LOGIC"}],
            },
            {
                "t": 3.0,
                "event": "llm_call",
                "call_id": "patch-1",
                "backend": "ollama",
                "model": "qwen",
                "prompt_tokens": 100,
                "completion_tokens": 20,
                "latency_s": 1.5,
            },
            {"t": 4.0, "event": "llm_candidate", "call_id": "patch-1", "candidate_id": "llm-1-1"},
            {
                "t": 5.0,
                "event": "candidate",
                "id": "llm-1-1",
                "engine": "llm",
                "template": "llm-patch",
                "accepted": kept,
                "reason": "screened" if kept else "no",
            },
            {
                "t": 5.0,
                "event": "candidate",
                "id": "r1-t0",
                "engine": "templates",
                "template": "off-by-one",
                "accepted": False,
                "reason": "the failing tests still fail",
            },
        ]
        if kept:
            events += [
                {
                    "t": 6.0,
                    "event": "verify",
                    "candidate": "llm-1-1",
                    "commit": "c" * 40,
                    "outcomes": {"t::a": "passed", "t::b": "failed"},
                },
                {
                    "t": 7.0,
                    "event": "round",
                    "number": 1,
                    "accepted": True,
                    "commit": "c" * 40,
                    "template": "llm-patch",
                    "engine": "llm",
                },
            ]
        result = {
            "status": status,
            "duration_s": duration,
            "fixed_tests": ["t::a"] if kept else [],
            "rounds": [{"number": 1, "commit": "c" * 40, "template": "llm-patch"}] if kept else [],
        }
        history.store_run(root, run_id, events, result, started=1.0, ended=1.0 + duration)

    run("20250101T000001-aaaaa1", "fixed", 10.0, "RUNTIME_SAFETY", True)
    run("20250101T000002-aaaaa2", "fixed", 30.0, "RUNTIME_SAFETY", True)
    run("20250101T000003-aaaaa3", "not_fixed", 50.0, "CONTRACT", False)
    data = cli("stats", "--json", cwd=root).json()
    assert data["runs"] == 3 and data["by_status"] == {"fixed": 2, "not_fixed": 1}
    assert data["median_time_to_fix_s"] == 20.0
    classes = {c["failure_class"]: c for c in data["by_failure_class"]}
    assert (classes["RUNTIME_SAFETY"]["tests"], classes["RUNTIME_SAFETY"]["tests_fixed"]) == (2, 2)
    assert (classes["CONTRACT"]["runs"], classes["CONTRACT"]["runs_fixed"]) == (1, 0)
    assert (classes["LOGIC"]["tests"], classes["LOGIC"]["tests_fixed"]) == (3, 0)
    templates = {t["template"]: t for t in data["by_template"]}
    assert (templates["llm-patch"]["tried"], templates["llm-patch"]["kept"]) == (3, 2)
    assert templates["off-by-one"]["kept"] == 0 and templates["off-by-one"]["runs"] == 3
    assert data["template_order"] == ["llm-patch"]
    (model,) = data["by_model"]
    assert model == {
        "model": "ollama:qwen",
        "calls": 3,
        "tokens": 360,
        "seconds": 4.5,
        "candidates": 3,
        "kept": 2,
    }
    text = cli("stats", cwd=root).stdout
    assert "ollama:qwen" in text and "llm/llm-patch" in text


def test_an_on_disk_trace_without_a_ref_is_listed_from_its_folder(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo", {"a.py": "A = 1\n"})
    folder = history.runs_folder(root) / "20250101T000000-c0ffee"
    folder.mkdir(parents=True)
    (folder / "trace.jsonl").write_text(
        json.dumps({"t": 5.0, "event": "run_start", "trigger": "hook", "base": "abc"})
        + "\n"
        + '{"t": 6.0, "event": "baseline", "outc'  # a line cut by the kill
    )
    (run,) = cli("runs", "--json", cwd=root).json()
    assert run["status"] == "interrupted" and run["stored"] is False
    assert run["trigger"] == "hook" and run["started"] == 5.0
    assert read_trace(folder / "trace.jsonl")[0]["event"] == "run_start"
