from pushfix import Command, get_new_command, match

REFUSED = (
    "fatal: The current branch {branch} has no upstream branch.\n"
    "To push the current branch and set the remote as upstream, use\n\n"
    "    git push --set-upstream {remote} {branch}\n"
)


def refused(script, remote, branch):
    return Command(script, REFUSED.format(remote=remote, branch=branch))


def test_match():
    assert match(refused("git push", "origin", "main"))
    assert not match(Command("git push", "Everything up-to-date"))
    assert not match(refused("git pull", "origin", "main"))


def test_simple_branch():
    assert get_new_command(refused("git push", "origin", "main")) == (
        "git push --set-upstream origin main"
    )


def test_options_are_kept():
    assert get_new_command(refused("git push -f", "origin", "wip")) == (
        "git push -f --set-upstream origin wip"
    )


def test_branch_with_slash_and_dash():
    assert get_new_command(refused("git push", "origin", "feature/login-form")) == (
        "git push --set-upstream origin feature/login-form"
    )


def test_remote_with_dash():
    assert get_new_command(refused("git push -q", "my-fork", "fix_7")) == (
        "git push -q --set-upstream my-fork fix_7"
    )
