from gitfix import Invocation, corrected_line, is_unknown_subcommand

REFUSED = "git: '{}' is not a git command. See 'git --help'."


def refused(line):
    return Invocation(line, REFUSED.format(line.split()[1]))


def test_only_a_refused_subcommand_is_recognised():
    assert is_unknown_subcommand(refused("git comit -m wip"))
    assert not is_unknown_subcommand(Invocation("git commit -m wip", ""))
    assert not is_unknown_subcommand(Invocation("hg comit", REFUSED.format("comit")))


def test_one_letter_missing():
    assert corrected_line(refused("git comit -m wip")) == "git commit -m wip"


def test_swapped_letters():
    assert corrected_line(refused("git psuh origin main")) == "git push origin main"


def test_swapped_letters_in_a_long_name():
    assert corrected_line(refused("git chekcout -b topic")) == "git checkout -b topic"


def test_arguments_are_kept():
    assert corrected_line(refused("git stauts --short")) == "git status --short"
