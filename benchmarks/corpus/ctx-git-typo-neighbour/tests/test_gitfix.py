from gitfix import Command, get_new_command, match

REFUSED = "git: '{}' is not a git command. See 'git --help'."


def refused(script):
    return Command(script, REFUSED.format(script.split()[1]))


def test_match_needs_the_refusal():
    assert match(refused("git comit -m wip"))
    assert not match(Command("git commit -m wip", ""))
    assert not match(Command("hg comit", REFUSED.format("comit")))


def test_one_letter_missing():
    assert get_new_command(refused("git comit -m wip")) == "git commit -m wip"


def test_swapped_letters():
    assert get_new_command(refused("git psuh origin main")) == "git push origin main"


def test_swapped_letters_in_a_long_name():
    assert get_new_command(refused("git chekcout -b topic")) == "git checkout -b topic"


def test_arguments_are_kept():
    assert get_new_command(refused("git stauts --short")) == "git status --short"
