"""A model reply that fixes the bug and also adds a dangerous call is refused before it runs.

End to end: a real repository whose bug only a model's patch fixes, `mendbot fix --engine
llm` against a fake OpenAI-compatible server on 127.0.0.1. The first reply fixes the median
and also runs ``os.system("touch marker")``; it is refused with its reason (in the output, the
JSON, the trace and the report), never screened, and the clean reply that follows is the fix.
The gate itself is then checked on single edits: per function, old against new.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from test_llm_cli import make_repo, mendbot

from bot.gates.dangerous import refusal

DANGEROUS_REPLY = (
    "# FILE: stats/center.py\n```python\ndef median(values):\n"
    "    import os\n"
    '    os.system("touch marker")\n'
    "    ordered = sorted(values)\n    middle = len(ordered) // 2\n"
    "    if len(ordered) % 2:\n        return ordered[middle]\n"
    "    return (ordered[middle - 1] + ordered[middle]) / 2\n```\n"
)
CLEAN_REPLY = (
    "# FILE: stats/center.py\n```python\ndef median(values):\n"
    "    ordered = sorted(values)\n    middle = len(ordered) // 2\n"
    "    if len(ordered) % 2:\n        return ordered[middle]\n"
    "    return (ordered[middle - 1] + ordered[middle]) / 2\n```\n"
)


def test_a_model_patch_that_adds_os_system_is_refused_before_it_runs(tmp_path: Path) -> None:
    with FakeOpenAI(models=("gpt-4o-mini",)) as server:
        repo = make_repo(
            tmp_path,
            pyproject=(
                '[tool.mendbot]\nengine = "llm"\nmodel = "openai:gpt-4o-mini"\n'
                f'llm-url = "{server.base_url}"\nsamples = 1\n'
            ),
        )
        server.add(DANGEROUS_REPLY, CLEAN_REPLY, CLEAN_REPLY)
        done = mendbot("fix", str(repo), "--sandbox", "local", "--json")
        human = mendbot("show", "-C", str(repo), "last")
        report = tmp_path / "report.html"
        mendbot("report", "-C", str(repo), "-o", str(report), "last")
    result = json.loads(done.stdout)
    assert result["status"] == "fixed", done.stderr
    assert "os.system" not in result["diff"]
    branch_tree = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", result["branch"]],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "marker" not in branch_tree
    assert not any(path.name == "marker" for path in tmp_path.rglob("marker"))
    # the refusal and its reason are visible everywhere the run is told
    said = "adds dangerous calls the code did not make: os.system (starts a process) in median"
    assert any(said in warning for warning in result["warnings"]), result["warnings"]
    assert said in " ".join(done.stderr.split()) or said in done.stdout
    assert said in " ".join(report.read_text().split())
    trace = repo / ".git"
    events = [
        json.loads(line)
        for line in subprocess.run(
            ["git", "show", f"refs/mendbot/runs/{result['run_id']}:trace.jsonl"],
            cwd=trace.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    ]
    refused = [e for e in events if e["event"] == "candidate" and e.get("stage") == "safety"]
    assert len(refused) == 1 and said in refused[0]["reason"]
    assert "adds dangerous calls the code did not make" in human.stdout


ORIGINAL = """\
import os
import subprocess


def build(target):
    subprocess.run(["make", target], check=True)
    return target


def area(width, height):
    return width * height
"""


@pytest.mark.parametrize(
    ("new_area", "expected"),
    [
        ('    os.system("touch marker")\n    return width * height\n', "os.system"),
        ("    return eval('width * height')\n", "eval"),
        ("    return __import__('operator').mul(width, height)\n", "__import__"),
        ("    import socket\n    socket.create_connection(('1.1.1.1', 53))\n", "socket."),
        ("    import pickle\n    return pickle.loads(width)\n", "pickle.loads"),
        ("    import ctypes\n    ctypes.CDLL(None)\n    return 0\n", "ctypes.CDLL"),
        ("    import shutil\n    shutil.rmtree('build')\n    return 0\n", "shutil.rmtree"),
        ("    os.remove('/etc/passwd')\n    return 0\n", "os.remove() of an absolute path"),
        ("    open('/tmp/x', 'w').write('1')\n    return 0\n", "open() of an absolute path"),
        ("    from importlib import import_module\n    import_module('x')\n", "import_module"),
        ("    run = subprocess.run\n    return run\n", "subprocess.run (starts a process) in area"),
    ],
)
def test_each_dangerous_addition_is_named(new_area: str, expected: str) -> None:
    new = ORIGINAL.replace("    return width * height\n", new_area)
    assert expected in refusal([("tools.py", ORIGINAL, new)])


def test_calls_a_function_already_made_and_harmless_edits_pass() -> None:
    again = ORIGINAL.replace(
        "    return target\n", '    subprocess.run(["true"])\n    return target\n'
    )
    relative = ORIGINAL.replace(
        "    return width * height\n",
        "    open('area.log', 'a').write('x')\n    return width * height\n",
    )
    plain = ORIGINAL.replace("return width * height", "return height * width")
    for new in (again, relative, plain):
        assert refusal([("tools.py", ORIGINAL, new)]) == ""
