from pushfix import Invocation, corrected_line, needs_upstream

REFUSED = (
    "fatal: The current branch {branch} has no upstream branch.\n"
    "To push the current branch and set the remote as upstream, use\n\n"
    "    git push --set-upstream {remote} {branch}\n"
)


def refused(line, remote, branch):
    return Invocation(line, REFUSED.format(remote=remote, branch=branch))


def test_only_a_push_without_upstream_is_recognised():
    assert needs_upstream(refused("git push", "origin", "main"))
    assert not needs_upstream(Invocation("git push", "Everything up-to-date"))
    assert not needs_upstream(refused("git pull", "origin", "main"))


def test_simple_branch():
    assert corrected_line(refused("git push", "origin", "main")) == (
        "git push --set-upstream origin main"
    )


def test_options_are_kept():
    assert corrected_line(refused("git push -f", "origin", "wip")) == (
        "git push -f --set-upstream origin wip"
    )


def test_branch_with_slash_and_dash():
    assert corrected_line(refused("git push", "origin", "feature/login-form")) == (
        "git push --set-upstream origin feature/login-form"
    )


def test_remote_with_dash():
    assert corrected_line(refused("git push -q", "my-fork", "fix_7")) == (
        "git push -q --set-upstream my-fork fix_7"
    )
