"""GitHub Models: the LLM engine in the Action with nothing but the workflow's GITHUB_TOKEN.

A fake GitHub Models server (chat completions under ``/inference``, the token as a bearer,
publisher/model names) driven by the unmodified ``openai`` client, and the whole action run
through ``mendbot action`` as action.yml starts it, with ``model: github:openai/gpt-4o-mini``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import TOKEN, issue_labeled_event
from fake_github_models import FakeGitHubModels
from fakehttp import Reply
from test_github_flow import REPO, World, make_world

from bot.config import Settings
from bot.errors import LLMError
from bot.llm.base import Message
from bot.llm.registry import make_backend

FIX = """# FILE: ages.py
<<<<<<< SEARCH
    return age > 18
=======
    return age >= 18
>>>>>>> REPLACE
"""
HELLO = [Message("user", "hello")]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def test_the_github_provider_sends_the_github_token_as_a_bearer() -> None:
    with FakeGitHubModels(TOKEN) as server:
        server.add("hi")
        settings = Settings(model="github:openai/gpt-4o-mini", llm_url=server.inference_url)
        backend = make_backend(settings, {"GITHUB_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-other"})
        backend.check()  # no model listing under /inference: nothing to verify, no error
        assert backend.complete(HELLO, temperature=0.0, max_tokens=10).text == "hi"
        (chat,) = server.chat_requests()
    assert chat.path == "/inference/chat/completions"
    assert chat.headers["authorization"] == f"Bearer {TOKEN}"
    assert chat.body["model"] == "openai/gpt-4o-mini"


def test_a_token_without_the_models_permission_says_which_permission() -> None:
    with FakeGitHubModels(TOKEN, models_permission=False) as server:
        settings = Settings(model="github:openai/gpt-4o-mini", llm_url=server.inference_url)
        backend = make_backend(settings, {"GITHUB_TOKEN": TOKEN})
        with pytest.raises(LLMError) as caught:
            backend.complete(HELLO, temperature=0.0, max_tokens=10)
    assert "HTTP 403" in caught.value.message and "No access" in caught.value.message
    assert "permissions: models: read" in caught.value.hint
    assert TOKEN not in str(caught.value)


@pytest.mark.slow
def test_action_repairs_with_github_models_and_the_workflow_token(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`model: github:openai/gpt-4o-mini` is the only model setting: the workflow's token
    reaches GitHub Models and never the tests (the project's own test checks)."""
    from bot.cli import main

    issue = world.github.add_issue(REPO, title="is_adult is wrong at 18", author="maintainer")
    payload = issue_labeled_event(world.github, REPO, issue, label="mendbot", sender="maintainer")
    environment = world.environment("issues", payload)
    with FakeGitHubModels(TOKEN) as models:
        models.responder = lambda request: Reply(content=FIX)
        variables = {
            "GITHUB_EVENT_NAME": "issues",
            "GITHUB_EVENT_PATH": str(environment.event_path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": world.github.api_url,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_WORKSPACE": str(world.checkout),
            "GITHUB_OUTPUT": str(environment.output_path),
            "GITHUB_STEP_SUMMARY": str(environment.summary_path),
            "MENDBOT_INPUT_TIME_BUDGET": "120",
            "MENDBOT_INPUT_ENGINE": "llm",
            "MENDBOT_INPUT_MODEL": "github:openai/gpt-4o-mini",
            "MENDBOT_INPUT_LLM_URL": models.inference_url,
        }
        monkeypatch.setenv("MENDBOT_LLM_KEY", "placeholder")
        monkeypatch.delenv("MENDBOT_LLM_KEY")  # restored to absent after the test
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(SystemExit) as done:
            main(["action"])
        chats = models.chat_requests()
    assert done.value.code == 0
    outputs = world.outputs()
    assert outputs["status"] == "fixed" and outputs["branch"] == "mendbot/issue-1"
    assert "return age >= 18" in world.origin_file("mendbot/issue-1", "ages.py")
    assert chats and all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in chats)
    assert {c.body["model"] for c in chats} == {"openai/gpt-4o-mini"}
    (pull,) = world.github.repos[REPO].pulls.values()
    assert "llm" in pull["body"] and TOKEN not in pull["body"]
