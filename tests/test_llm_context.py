"""Repository-level context for the LLM engine, measured with the stand-in model.

Each test builds a real project (from a corpus bug whose fix lies away from the traceback's
function), runs its tests for real, and lets the LLM engine talk to the stand-in model through
a fake server and the unmodified client. The stand-in knows the reference fix and edits only
code the prompt shows, so a fix lands only when the prompt showed the code that must change.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest
from fake_ollama import FakeOllama
from fake_openai import FakeOpenAI
from standin_fake import NOT_COPIED, standin_for, standin_responder
from test_llm_cli import git, mendbot
from test_llm_engine import Project, context_for, drive, make_project, user_prompt

from bot.bench_standin import ReferenceFix, StandIn
from bot.config import Settings
from bot.engines.llm import LLMEngine
from bot.engines.llm_context import (
    CODE_BUDGETS,
    code_slice,
    code_view,
    find_targets,
    primary_failure,
)
from bot.engines.llm_localize import rank_files
from bot.llm.ollama import OllamaBackend
from bot.llm.openai_compat import OpenAICompatBackend
from bot.llm.tokens import estimate_tokens
from bot.trace import Trace

CORPUS = Path(__file__).resolve().parents[1] / "benchmarks" / "corpus"
MODEL = "mendbot-standin"


def corpus_project(name: str, root: Path) -> Project:
    folder = root / name
    shutil.copytree(CORPUS / name, folder, ignore=lambda _d, names: NOT_COPIED & set(names))
    return make_project(folder, {})


def land_with_openai(project: Project, standin: StandIn, scratch: Path) -> tuple[bool, str]:
    """Drive the engine against the stand-in; (landed, the first prompt)."""
    with FakeOpenAI(models=(MODEL,), api_key="sk-standin-000000000000") as server:
        server.responder = standin_responder(standin)
        backend = OpenAICompatBackend(
            MODEL, base_url=server.base_url, api_key="sk-standin-000000000000"
        )
        backend.check()
        engine = LLMEngine(backend, Settings(), Trace(None))
        fixed, _ = drive(engine, project, context_for(project), scratch)
        return fixed is not None, user_prompt(server, 0)


def test_neighbour_function_is_shown(tmp_path: Path) -> None:
    # IndexError in corrected_line; the fix is the cutoff in _suggestions, which it calls
    project = corpus_project("ctx-git-typo-neighbour", tmp_path)
    standin = standin_for(CORPUS / "ctx-git-typo-neighbour")
    landed, prompt = land_with_openai(project, standin, tmp_path / "scratch")
    assert "def corrected_line(command):" in prompt
    assert "return get_close_matches(typed, KNOWN, n=3, cutoff=0.9)" in prompt
    assert standin.exchanges[0].shown == "all"
    assert landed and len(standin.exchanges) == 1


def test_module_level_constant_is_shown(tmp_path: Path) -> None:
    # AttributeError on None in upstream(); the fix is the module-level pattern it reads
    project = corpus_project("ctx-upstream-branch-pattern", tmp_path)
    standin = standin_for(CORPUS / "ctx-upstream-branch-pattern")
    landed, prompt = land_with_openai(project, standin, tmp_path / "scratch")
    assert 'SUGGESTION = re.compile(r"git push --set-upstream (\\w+) (\\w+)")' in prompt
    assert standin.exchanges[0].shown == "all"
    assert landed


def test_decorator_argument_is_shown(tmp_path: Path) -> None:
    # FormError raised in submit(); the fix is an argument of the form class's decorator
    project = corpus_project("ctx-form-field-decorator", tmp_path)
    standin = standin_for(CORPUS / "ctx-form-field-decorator")
    with FakeOllama(models=(MODEL,)) as server:
        server.responder = standin_responder(standin)
        backend = OllamaBackend(MODEL, host=server.url, timeout=10, backoff=0.01)
        backend.check()
        engine = LLMEngine(backend, Settings(), Trace(None))
        fixed, _ = drive(engine, project, context_for(project), tmp_path / "scratch")
        prompt = user_prompt(server, 0)
    assert '@field("newsletter", default="no", parse=flag)' in prompt
    assert "def submit(form, values):" in prompt
    assert standin.exchanges[0].shown == "all"
    assert fixed is not None


def test_second_file_is_shown_and_one_reply_edits_both(tmp_path: Path) -> None:
    # the fix changes format_amount in money.py and its callers in invoice.py together
    project = corpus_project("ctx-currency-minor-units", tmp_path)
    standin = standin_for(CORPUS / "ctx-currency-minor-units")
    with FakeOpenAI(models=(MODEL,), api_key="sk-standin-000000000000") as server:
        server.responder = standin_responder(standin)
        backend = OpenAICompatBackend(
            MODEL, base_url=server.base_url, api_key="sk-standin-000000000000"
        )
        engine = LLMEngine(backend, Settings(), Trace(None))
        fixed, _ = drive(engine, project, context_for(project), tmp_path / "scratch")
        prompt = user_prompt(server, 0)
    assert "# shop/invoice.py" in prompt and "# shop/money.py" in prompt
    assert "def format_amount(minor):" in prompt and "def render(self):" in prompt
    assert standin.exchanges[0].shown == "all"
    assert fixed is not None
    assert sorted(edit.path for edit in fixed.edits) == ["shop/invoice.py", "shop/money.py"]


NESTED = '''"""Readers of comma-separated integers."""


def make_reader(strict):
    """A reader; a strict one refuses empty fields, a lenient one skips them."""
    if strict:

        def read(text):
            return [int(part) for part in text.split(",")]

    else:

        def read(text):
            return [int(part) for part in text.split(",") if part]

    return read


def total(text, strict=False):
    return sum(make_reader(strict)(text))
'''

NESTED_TESTS = """import pytest

from numbers_io.readers import make_reader, total


def test_strict_reads_all():
    assert make_reader(True)("1,2,3") == [1, 2, 3]


def test_strict_refuses_empty_fields():
    with pytest.raises(ValueError):
        make_reader(True)("1,,2")


def test_lenient_skips_blank_fields():
    assert make_reader(False)("1, ,2,") == [1, 2]


def test_total():
    assert total("4,5") == 9
"""


def test_the_traceback_line_picks_between_same_named_definitions(tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "nested",
        {
            "numbers_io/__init__.py": "",
            "numbers_io/readers.py": NESTED,
            "tests/test_readers.py": NESTED_TESTS,
        },
    )
    context = context_for(project)
    failure = primary_failure(context)
    assert failure is not None
    target = find_targets(context, failure)[0]
    assert target.path == "numbers_io/readers.py" and target.function == "make_reader.read"
    piece = code_slice(project.sources[target.path], target.function, "function", target.line)
    assert piece is not None
    assert "if part]" in piece.code  # the lenient definition, where the traceback points
    assert 'text.split(",")]' not in piece.code  # not the strict one of the same name
    assert piece.start_line == NESTED.splitlines().index("        def read(text):", 9) + 1


def test_a_prompt_is_made_whenever_a_file_can_be_localized(tmp_path: Path) -> None:
    # the wrong value sits in module-level code: no function to repair, no frame in the code
    before = {"shop/tax.py": 'RATES = {"food": 0.07, "books": 0.07, "other": 0.91}\n'}
    after = {"shop/tax.py": 'RATES = {"food": 0.07, "books": 0.07, "other": 0.19}\n'}
    tests = (
        "from shop.tax import RATES\n\n\n"
        "def test_other_rate():\n    assert RATES['other'] == 0.19\n\n\n"
        "def test_food_rate():\n    assert RATES['food'] == 0.07\n\n\n"
        "def test_books_rate():\n    assert RATES['books'] == 0.07\n"
    )
    files = {"shop/__init__.py": "", **before, "tests/test_tax.py": tests}
    project = make_project(tmp_path / "rates", files)
    context = context_for(project)
    failure = primary_failure(context)
    assert failure is not None
    assert [f.path for f in rank_files(context, failure)][:1] == ["shop/tax.py"]
    views = code_view(context, failure)
    assert views and '"other": 0.91' in views[0].snippets[0].code
    standin = StandIn()
    standin.use(ReferenceFix.from_texts(before, after))
    landed, _ = land_with_openai(project, standin, tmp_path / "scratch")
    assert landed and standin.exchanges[0].shown == "all"


def test_fix_two_files_end_to_end_through_the_cli(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    name = "ctx-currency-minor-units"
    shutil.copytree(CORPUS / name, repo, ignore=lambda _d, names: NOT_COPIED & set(names))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"]):
        git(repo, *args)
    git(repo, "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-qm", "start")
    before = git(repo, "rev-parse", "HEAD")
    standin = standin_for(CORPUS / name)
    key = "sk-standin-000000000000"
    with FakeOpenAI(models=(MODEL,), api_key=key) as server:
        server.responder = standin_responder(standin)
        done = mendbot(
            "fix", str(repo), "--engine", "llm", "--model", f"openai:{MODEL}",
            "--llm-url", server.base_url, "--json", env={"OPENAI_API_KEY": key},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "fixed" and result["rounds"][0]["engine"] == "llm"
    assert "shop/money.py" in result["diff"] and "shop/invoice.py" in result["diff"]
    assert standin.exchanges[0].shown == "all"
    branch = result["branch"]
    for path in ("shop/money.py", "shop/invoice.py"):
        expected = (CORPUS / name / "reference" / path).read_text()
        assert ast.dump(ast.parse(git(repo, "show", f"{branch}:{path}"))) == ast.dump(
            ast.parse(expected)
        )
    assert git(repo, "rev-parse", "HEAD") == before  # the user's checkout is untouched


def test_context_widens_when_a_reply_cannot_see_the_code(tmp_path: Path) -> None:
    project = corpus_project("ctx-git-typo-neighbour", tmp_path)
    standin = standin_for(CORPUS / "ctx-git-typo-neighbour")
    trace_path = tmp_path / "trace.jsonl"
    with FakeOllama(models=(MODEL,)) as server:
        server.add("I need to see the function that computes the suggestions.")
        server.responder = standin_responder(standin)
        backend = OllamaBackend(MODEL, host=server.url, timeout=10, backoff=0.01)
        engine = LLMEngine(backend, Settings(), Trace(trace_path))
        fixed, _ = drive(engine, project, context_for(project), tmp_path / "scratch")
        first, second = user_prompt(server, 0), user_prompt(server, 1)
    assert fixed is not None
    assert len(second) > len(first)  # the second prompt shows more
    assert "prose only" in second
    from bot.trace import read_trace

    calls = [r for r in read_trace(trace_path) if r["event"] == "llm_call"]
    assert [c["context_layer"] for c in calls] == [0, 1]


@pytest.mark.parametrize("shown", ["none", "some", "all"])
def test_the_standin_edits_only_what_the_prompt_shows(shown: str) -> None:
    from bot.engines.prompts import SYSTEM, fence
    from bot.llm.base import Message

    before = {"a.py": "X = 1\n\n\ndef f():\n    return X\n", "b.py": "def g():\n    return 2\n"}
    after = {"a.py": "X = 10\n\n\ndef f():\n    return X\n", "b.py": "def g():\n    return 3\n"}
    standin = StandIn()
    standin.use(ReferenceFix.from_texts(before, after))
    code = {
        "none": "def h():\n    pass\n",
        "some": before["a.py"],
        "all": before["a.py"] + before["b.py"],
    }
    reply = standin.answer([Message("system", SYSTEM), Message("user", fence(code[shown]))])
    assert standin.exchanges[-1].shown == shown
    if shown == "none":
        assert "<<<<<<< SEARCH" not in reply and "cannot see" in reply
    else:
        assert "# FILE: a.py\n<<<<<<< SEARCH\nX = 1\n=======\nX = 10\n>>>>>>> REPLACE" in reply
        assert ("# FILE: b.py" in reply) is (shown == "all")


def test_a_multi_file_reply_is_applied_whole_or_not_at_all(tmp_path: Path) -> None:
    from bot.edits import EditRejected
    from bot.engines.replies import EditScope, apply_reply

    sources = {"shop/money.py": "def cents(x):\n    return x\n", "shop/tax.py": "RATE = 1\n"}
    scope = EditScope(project_dir=tmp_path, sources=sources, default_path="shop/money.py")
    both = (
        "# FILE: shop/money.py\n<<<<<<< SEARCH\n    return x\n=======\n    return x * 100\n"
        ">>>>>>> REPLACE\n\n# FILE: shop/tax.py\n<<<<<<< SEARCH\nRATE = 1\n=======\n"
        "RATE = 2\n>>>>>>> REPLACE\n"
    )
    applied = apply_reply(both, scope, max_chars=10_000)
    assert applied.files == {
        "shop/money.py": "def cents(x):\n    return x * 100\n",
        "shop/tax.py": "RATE = 2\n",
    }
    for bad, reason in (
        (both.replace("RATE = 1\n=", "RATE = 7\n="), "not found"),
        (both.replace("# FILE: shop/tax.py", "# FILE: tests/test_tax.py"), "test file"),
        (both.replace("# FILE: shop/tax.py", "# FILE: ../tax.py"), "leaves the project"),
    ):
        with pytest.raises(EditRejected, match=reason):
            apply_reply(bad, scope, max_chars=10_000)
    assert sources["shop/money.py"] == "def cents(x):\n    return x\n"  # nothing half-applied


def filler(count: int) -> str:
    """Unrelated functions that push a file far past the prompt's code budget."""
    return "".join(
        f'\n\ndef report_{n}(rows):\n    """Report number {n}."""\n    lines = []\n'
        f"    for row in rows:\n        if row.get('kind') == 'k{n}':\n"
        f"            lines.append(f\"{{row['name']}}: {{row['value'] * {n}}}\")\n"
        "        else:\n            lines.append('-')\n    return '\\n'.join(lines)\n"
        for n in range(count)
    )


def test_in_a_large_file_the_budget_goes_to_the_blocks_tied_to_the_failure(
    tmp_path: Path,
) -> None:
    name = "ctx-upstream-branch-pattern"
    folder = tmp_path / name
    shutil.copytree(CORPUS / name, folder, ignore=lambda _d, names: NOT_COPIED & set(names))
    module = folder / "pushfix.py"
    module.write_text(module.read_text() + filler(120))
    project = make_project(folder, {})
    context = context_for(project)
    failure = primary_failure(context)
    assert failure is not None
    views = code_view(context, failure)
    shown = "".join(snippet.code for snippet in views[0].snippets)
    assert estimate_tokens(project.sources["pushfix.py"]) > 4 * CODE_BUDGETS[0]
    assert estimate_tokens(shown) <= CODE_BUDGETS[0]  # the blocks without evidence stay out
    assert 'SUGGESTION = re.compile(r"git push --set-upstream (\\w+) (\\w+)")' in shown
    assert "def upstream(output):" in shown and "def corrected_line(command):" in shown
    assert "def report_7(rows):" not in shown and "def report_7(rows): ..." in views[0].outline
    text = project.sources["pushfix.py"]
    fixed = text.replace("(\\w+) (\\w+)", "(\\S+) (\\S+)")
    standin = StandIn()
    standin.use(ReferenceFix.from_texts({"pushfix.py": text}, {"pushfix.py": fixed}))
    landed, _ = land_with_openai(project, standin, tmp_path / "scratch")
    assert landed and standin.exchanges[0].shown == "all"


def test_bench_reports_what_the_prompts_showed_per_bug() -> None:
    done = mendbot(
        "bench", "--engine", "llm", "--json",
        "--only", "ctx-currency-minor-units", "--only", "ctx-upstream-branch-pattern",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    bugs = {bug["bug"]: bug for bug in report["bugs"]}
    assert set(bugs) == {"ctx-currency-minor-units", "ctx-upstream-branch-pattern"}
    for bug in bugs.values():
        assert bug["shown_first"] == "all" and bug["landed"] is True
        assert bug["prompts"] == len(bug["prompt_tokens"]) >= 1
        assert all(0 < tokens < 8000 for tokens in bug["prompt_tokens"])
    summary = report["summary"]
    assert summary["landed"] == 2 and summary["first_prompt_showed"]["all"] == 2
    assert 0 < summary["median_prompt_tokens"] < 8000
