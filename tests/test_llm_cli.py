"""`mendbot fix --engine llm` end to end: a real git repository, real pytest runs, the real
pipeline, and fake model servers on 127.0.0.1 driven by the unmodified clients.

The bug needs a new statement (an even-length branch in a median), which no fix template
builds; only the model's patch fixes it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_ollama import FakeOllama, Reply
from fake_openai import FakeOpenAI

from bot.trace import read_trace

MODEL = "qwen2.5-coder:7b"
ROOT = Path(__file__).resolve().parents[1]

CENTER = '''"""Measures of the center of a list of numbers."""


def mean(values):
    return sum(values) / len(values)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle]
'''

TESTS = """from stats.center import mean, median


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_median_odd():
    assert median([3, 1, 2]) == 2


def test_median_even():
    assert median([4, 1, 3, 2]) == 2.5
"""

GOOD_PATCH = """# FILE: stats/center.py
<<<<<<< SEARCH
    return ordered[middle]
=======
    if len(ordered) % 2 == 0:
        return (ordered[middle - 1] + ordered[middle]) / 2
    return ordered[middle]
>>>>>>> REPLACE
"""


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip()


def make_repo(root: Path, center: str = CENTER, pyproject: str = "") -> Path:
    repo = root / "repo"
    (repo / "stats").mkdir(parents=True)
    (repo / "tests").mkdir()
    if pyproject:
        (repo / "pyproject.toml").write_text(pyproject)
    (repo / "stats" / "__init__.py").write_text("")
    (repo / "stats" / "center.py").write_text(center)
    (repo / "tests" / "test_center.py").write_text(TESTS)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-qm", "start")
    return repo


def checkout_state(repo: Path) -> tuple[str, str, str, str]:
    files = (repo / "stats" / "center.py").read_text()
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "branch", "--show-current"),
        git(repo, "status", "--porcelain"),
        files,
    )


def mendbot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MENDBOT_", "OPENAI"))}
    environment.pop("OLLAMA_HOST", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_nothing_half_done(repo: Path, before: tuple[str, str, str, str]) -> None:
    """The user's checkout is untouched, no worktree is left, no branch holds partial work."""
    assert checkout_state(repo) == before
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    base = before[0]
    for branch in git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split():
        if branch.startswith("mendbot/"):
            assert git(repo, "rev-parse", branch) == base, f"{branch} holds partial work"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def ollama_server() -> Iterator[FakeOllama]:
    with FakeOllama(models=(MODEL,)) as server:
        yield server


# -- fixed end to end -------------------------------------------------------------------------


def test_fix_through_ollama_and_export_the_trace(
    repo: Path, ollama_server: FakeOllama, tmp_path: Path
) -> None:
    before = checkout_state(repo)
    ollama_server.add("Average the two middle values when the length is even.", GOOD_PATCH)

    done = mendbot(
        "fix", str(repo), "--engine", "llm", "--model", f"ollama:{MODEL}",
        "--llm-url", ollama_server.url, "--json",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "fixed"
    assert result["fixed_tests"] == ["tests/test_center.py::test_median_even"]
    (round_,) = result["rounds"]
    assert round_["engine"] == "llm" and round_["commit"]
    assert "if len(ordered) % 2 == 0:" in result["diff"]
    # two repair calls, then one asking for the kept round's five-whys note
    assert result["extra"]["usage"]["llm"]["calls"] == 3
    assert result["extra"]["usage"]["llm"]["rejected_replies"] == 1
    assert git(repo, "show", f"{round_['commit']}:stats/center.py").count("% 2 == 0") == 1
    assert checkout_state(repo) == before  # the fix is on the branch, not in the checkout
    sent = ollama_server.chat_requests()[0].body
    assert sent["options"]["num_ctx"] == 8192 and "seed" in sent["options"]
    assert sent["keep_alive"]

    exported = tmp_path / "pairs.jsonl"
    done = mendbot("trace", "export", result["run_id"], "--repo", str(repo), "-o", str(exported))
    assert done.returncode == 0, done.stderr
    (pair,) = [json.loads(line) for line in exported.read_text().splitlines()]
    assert pair["completion"] == [{"role": "assistant", "content": GOOD_PATCH}]
    assert "def median(values):" in pair["prompt"][-1]["content"]
    assert pair["meta"]["fate"] == "accepted"
    trace_file = Path(git(repo, "rev-parse", "--git-common-dir"))
    trace_file = (repo / trace_file if not trace_file.is_absolute() else trace_file) / "mendbot"
    records = read_trace(trace_file / "runs" / result["run_id"] / "trace.jsonl")
    rejected = [r for r in records if r["event"] == "llm_reply_rejected"]
    assert len(rejected) == 1 and "prose only" in rejected[0]["reason"]


def test_fix_through_an_openai_compatible_server_configured_in_pyproject(tmp_path: Path) -> None:
    key = "sk-e2e-test-key-0000000000"
    with FakeOpenAI(models=("gpt-4o-mini",), api_key=key) as server:
        repo = make_repo(
            tmp_path,
            pyproject=(
                '[tool.mendbot]\nengine = "llm"\nmodel = "openai:gpt-4o-mini"\n'
                f'llm-url = "{server.base_url}"\nsamples = 2\n'
            ),
        )
        server.add(
            "# FILE: stats/center.py\n```python\ndef median(values):\n"
            "    ordered = sorted(values)\n    middle = len(ordered) // 2\n"
            "    if len(ordered) % 2:\n        return ordered[middle]\n"
            "    return (ordered[middle - 1] + ordered[middle]) / 2\n```\n"
        )
        done = mendbot("fix", str(repo), "--json", env={"OPENAI_API_KEY": key})
        assert server.chat_requests()[0].headers["authorization"] == f"Bearer {key}"
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "fixed" and result["rounds"][0]["engine"] == "llm"
    assert result["engines"] == ["llm"]
    assert "+    if len(ordered) % 2:" in result["diff"]  # the whole function came back
    assert key not in done.stdout + done.stderr


# -- failures: a clear error and nothing half-done --------------------------------------------


def test_server_down_is_a_usage_error(repo: Path) -> None:
    before = checkout_state(repo)
    url = f"http://127.0.0.1:{free_port()}"
    done = mendbot(
        "fix", str(repo), "--engine", "llm", "--model", f"ollama:{MODEL}", "--llm-url", url
    )
    assert done.returncode == 2
    assert f"cannot reach the Ollama server at {url}" in done.stderr
    assert "ollama serve" in done.stderr
    assert_nothing_half_done(repo, before)


def test_model_not_pulled_says_how_to_pull_it(repo: Path) -> None:
    before = checkout_state(repo)
    with FakeOllama(models=("llama3.1:8b",)) as server:
        done = mendbot(
            "fix", str(repo), "--engine", "llm", "--model", f"ollama:{MODEL}",
            "--llm-url", server.url,
        )  # fmt: skip
    assert done.returncode == 2
    assert f"ollama pull {MODEL}" in done.stderr
    assert_nothing_half_done(repo, before)


def test_bad_key_is_a_usage_error(repo: Path) -> None:
    before = checkout_state(repo)
    with FakeOpenAI(api_key="sk-the-right-one-000000") as server:
        done = mendbot(
            "fix", str(repo), "--engine", "llm", "--model", "openai:gpt-4o-mini",
            "--llm-url", server.base_url, env={"MENDBOT_LLM_KEY": "sk-a-wrong-one-00000000"},
        )  # fmt: skip
    assert done.returncode == 2
    assert "refused the API key (HTTP 401" in done.stderr and "MENDBOT_LLM_KEY" in done.stderr
    assert "sk-a-wrong-one" not in done.stderr
    assert_nothing_half_done(repo, before)


@pytest.mark.parametrize(
    ("reply", "env", "message"),
    [
        (Reply(status=500, error="llama runner process has terminated"), {}, "HTTP 500"),
        (Reply(status=404, error=f"model '{MODEL}' not found"), {}, f"ollama pull {MODEL}"),
        (Reply(content="late", delay=4), {"MENDBOT_LLM_TIMEOUT": "1"}, "within 1 s"),
    ],
    ids=["500", "404", "slow"],
)
def test_ollama_failing_mid_run(
    repo: Path, ollama_server: FakeOllama, reply: Reply, env: dict[str, str], message: str
) -> None:
    before = checkout_state(repo)
    ollama_server.responder = lambda request: reply
    done = mendbot(
        "fix", str(repo), "--engine", "llm", "--model", f"ollama:{MODEL}",
        "--llm-url", ollama_server.url, env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert ollama_server.chat_requests(), "the failure happened during the search"
    assert_nothing_half_done(repo, before)


def test_rate_limit_that_persists(repo: Path) -> None:
    before = checkout_state(repo)
    with FakeOpenAI() as server:
        server.responder = lambda request: Reply(
            status=429, error="Rate limit reached for requests", headers={"Retry-After": "0"}
        )
        done = mendbot(
            "fix", str(repo), "--engine", "llm", "--model", "openai:gpt-4o-mini",
            "--llm-url", server.base_url,
        )  # fmt: skip
        assert len(server.chat_requests()) == 3  # retried, then given up
    assert done.returncode == 2
    assert "rate limiting requests" in done.stderr and "gave up after 3 attempts" in done.stderr
    assert_nothing_half_done(repo, before)


def test_auto_engine_says_when_the_llm_is_not_reachable(tmp_path: Path) -> None:
    fixed = CENTER.replace(
        "    return ordered[middle]",
        "    if len(ordered) % 2 == 0:\n"
        "        return (ordered[middle - 1] + ordered[middle]) / 2\n"
        "    return ordered[middle]",
    )
    repo = make_repo(tmp_path, center=fixed)
    url = f"http://127.0.0.1:{free_port()}"
    done = mendbot(
        "fix", str(repo), "--engine", "auto", "--model", f"ollama:{MODEL}", "--llm-url", url,
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["engines"] == ["templates"]
    assert any("LLM" in warning and "not reachable" in warning for warning in result["warnings"])
