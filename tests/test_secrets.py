"""Secrets of the machine never leave mendbot: a hostile project whose tests print the files of
the home folder, run through `mendbot fix` under each sandbox, and the redaction of secret
shapes in everything mendbot writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bot.redaction import redact, redact_value

KEY_SENTINEL = "mendbotKeySentinel7q"
CREDENTIAL_SENTINEL = "credSentinel42x"
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    f"QyNTUxOQAAACBvE{KEY_SENTINEL}XhZ3Q5xdG0xbE5kR1V0YVhNdGJHOXVaeUJsYm05MQ==\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
CREDENTIALS = f"https://alice:{CREDENTIAL_SENTINEL}@github.com\n"
SENTINELS = (KEY_SENTINEL, CREDENTIAL_SENTINEL)

BUGGY = """\
def total(prices):
    result = 0
    for price in prices[1:]:
        result += price
    return result
"""

HOSTILE_TESTS = """\
import os
import sys
from pathlib import Path

from cart import total

PLACES = [
    Path.home() / ".ssh" / "id_rsa",
    Path.home() / ".git-credentials",
    Path({home!r}) / ".ssh" / "id_rsa",
    Path({home!r}) / ".git-credentials",
]


def _loot():
    found = []
    for place in PLACES:
        try:
            found.append(place.read_text().replace("\\n", " "))
        except OSError as error:
            found.append(f"unreadable {{place}}: {{error.strerror}}")
    return " | ".join(found)  # one line: the first line of a failure is what travels


def test_total():
    loot = _loot()
    print(loot)
    print(loot, file=sys.stderr)
    assert total([1, 2, 3]) == 6, loot


def test_empty():
    assert total([]) == 0
"""

# the same pyproject as the docker sandbox's end-to-end test, so the prepared image is shared
PYPROJECT = """\
[project]
name = "shop"
version = "0.1.0"
[project.optional-dependencies]
test = ["pytest"]
[tool.mendbot]
base-image = "{base_image}"
"""


def fake_home(folder: Path) -> Path:
    (folder / ".ssh").mkdir(parents=True)
    (folder / ".ssh" / "id_rsa").write_text(PRIVATE_KEY)
    (folder / ".git-credentials").write_text(CREDENTIALS)
    return folder


def hostile_project(folder: Path, home: Path, base_image: str) -> Path:
    folder.mkdir()
    (folder / "pyproject.toml").write_text(PYPROJECT.format(base_image=base_image))
    (folder / "cart.py").write_text(BUGGY)
    (folder / "test_cart.py").write_text(HOSTILE_TESTS.format(home=str(home)))
    git = ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run([*git, "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "shop"], cwd=folder, check=True)
    return folder


def run_mendbot(home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "MENDBOT_PLUGIN_AUTOLOAD": "0",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def everything_written(project: Path) -> dict[str, str]:
    """Every git object of the repository (run records included) and mendbot's own files."""
    objects = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=project,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", errors="replace")
    found = {"git objects": objects}
    for path in (project / ".git" / "mendbot").rglob("*"):
        if path.is_file():
            found[str(path)] = path.read_text(errors="replace")
    return found


def assert_nowhere(places: dict[str, str]) -> None:
    for where, text in places.items():
        for sentinel in SENTINELS:
            assert sentinel not in text, f"{sentinel} leaked into {where}"


def fix_and_collect(tmp_path: Path, sandbox: str, base_image: str) -> dict[str, str]:
    home = fake_home(tmp_path / "home")
    project = hostile_project(tmp_path / "shop", home, base_image)
    fixed = run_mendbot(home, "fix", "--sandbox", sandbox, "--json", str(project), cwd=tmp_path)
    result: dict[str, Any] = json.loads(fixed.stdout)
    assert result["status"] == "fixed", fixed.stderr
    assert result["fixed_tests"] == ["test_cart.py::test_total"]
    human = run_mendbot(home, "show", "-C", str(project), "last", cwd=tmp_path)
    report = tmp_path / "report.html"
    written = run_mendbot(
        home, "report", "-C", str(project), "-o", str(report), "last", cwd=tmp_path
    )
    assert written.returncode == 0, written.stderr
    places = {
        "fix stdout": fixed.stdout,
        "fix stderr": fixed.stderr,
        "show": human.stdout + human.stderr,
        "report": report.read_text(),
        **everything_written(project),
    }
    assert_nowhere(places)
    return places


def test_home_secrets_stay_out_under_the_local_sandbox(tmp_path: Path) -> None:
    places = fix_and_collect(tmp_path, "local", "python:3.12-slim")
    # the files were hidden from the tests, not only redacted afterwards: the test said so
    assert "No such file or directory" in places["git objects"]


@pytest.mark.docker
def test_home_secrets_stay_out_under_the_docker_sandbox(
    tmp_path: Path, docker_client: Any, docker_base_image: str, docker_wheelhouse: Path
) -> None:
    from bot.sandbox.prepare import prepare_image, read_recipe

    home = tmp_path / "prepare-home"
    project = hostile_project(home.parent / "recipe", home, docker_base_image)
    prepare_image(
        docker_client,
        project,
        read_recipe(project, docker_base_image),
        wheelhouse=docker_wheelhouse,
    )
    fix_and_collect(tmp_path, "docker", docker_base_image)


# -- the redaction itself ------------------------------------------------------------------------

SHAPES = {
    "private key": PRIVATE_KEY,
    "rsa key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA" + "x" * 40 + "\n"
    "-----END RSA PRIVATE KEY-----",
    "github classic": "ghp_" + "a1B2" * 9,
    "github oauth": "gho_" + "Z9y8" * 9,
    "github server": "ghs_" + "Q" * 36,
    "github user": "ghu_" + "w" * 36,
    "github fine-grained": "github_pat_11ABCDEFG0" + "x" * 50,
    "aws access key": "AKIAIOSFODNN7EXAMPLE",
    "aws secret": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "google key": "AIza" + "SyD-" * 8 + "abc",
    "url credentials": "https://alice:hunter2hunter@example.com/repo.git",
    "authorization header": "Authorization: Bearer abc.def.ghi-secret-value",
    "basic header": "authorization: Basic YWxpY2U6aHVudGVyMg==",
    "netrc": "machine api.example.com login alice password s3cr3tNetrc",
    "docker auth": '{"auths": {"registry": {"auth": "YWxpY2U6czNjcjN0RG9ja2Vy"}}}',
    "pypi token": "pypi-AgEIcHlwaS5vcmcCJGQ4" + "a" * 60,
}
SECRET_PARTS = {
    "private key": "b3BlbnNzaC1rZXktdjEA",
    "rsa key": "MIIEpAIBAAKCAQEA",
    "github classic": "a1B2a1B2",
    "github oauth": "Z9y8Z9y8",
    "github server": "QQQQQQQQ",
    "github user": "wwwwwwww",
    "github fine-grained": "11ABCDEFG0",
    "aws access key": "IOSFODNN7",
    "aws secret": "wJalrXUtnFEMI",
    "google key": "SyD-SyD-",
    "url credentials": "hunter2hunter",
    "authorization header": "abc.def.ghi",
    "basic header": "YWxpY2U6aHVudGVyMg",
    "netrc": "s3cr3tNetrc",
    "docker auth": "YWxpY2U6czNjcjN0RG9ja2Vy",
    "pypi token": "AgEIcHlwaS5vcmc",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_secret_shape_is_redacted(shape: str) -> None:
    text = f"before {SHAPES[shape]} after"
    cleaned = redact(text)
    assert SECRET_PARTS[shape] not in cleaned
    assert cleaned.startswith("before ") and cleaned.endswith(" after")
    assert "***" in cleaned


def test_ordinary_text_is_left_alone() -> None:
    text = textwrap.dedent(
        """\
        def token_count(password_rules, auth):
            url = "https://example.com/path?q=1"
            return len(password_rules) + auth.retries  # AKIA is a prefix
        assert total([1, 2, 3]) == 6
        """
    )
    assert redact(text) == text


def test_values_are_redacted_in_nested_data_and_known_secrets_anywhere() -> None:
    data = {"out": ["x ghp_" + "k" * 36], "n": 3, "nested": {"key": "my-own-value-1234"}}
    cleaned = redact_value(data, ["my-own-value-1234"])
    assert cleaned == {"out": ["x ***"], "n": 3, "nested": {"key": "***"}}
