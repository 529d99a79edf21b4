import pytest

from flags import Flag, bucket, enabled_flags, is_enabled

USERS = [f"user-{n}" for n in range(1000)]


def test_bucket_is_stable_and_in_range():
    assert bucket("checkout", "u1") == bucket("checkout", "u1")
    assert all(0 <= bucket("checkout", user) < 100 for user in USERS)


def test_full_rollout_reaches_everyone():
    flag = Flag("search")
    assert all(is_enabled(flag, user) for user in USERS)


def test_zero_rollout_reaches_nobody():
    flag = Flag("search", rollout_percent=0)
    assert not any(is_enabled(flag, user) for user in USERS)


def test_partial_rollout_is_roughly_proportional():
    flag = Flag("search", rollout_percent=25)
    share = sum(is_enabled(flag, user) for user in USERS) / len(USERS)
    assert 0.18 < share < 0.32


def test_allow_list_overrides_rollout():
    flag = Flag("beta", rollout_percent=0, allow=frozenset({"alice"}))
    assert is_enabled(flag, "alice")
    assert not is_enabled(flag, "bob")


def test_disabled_flag_is_off_for_everyone():
    flag = Flag("beta", enabled=False, allow=frozenset({"alice"}), deny=frozenset({"mallory"}))
    assert not is_enabled(flag, "alice")
    assert not is_enabled(flag, "bob")
    assert not is_enabled(flag, "mallory")


def test_deny_list_wins_over_rollout():
    flag = Flag("beta", deny=frozenset({"mallory"}))
    assert not is_enabled(flag, "mallory")
    assert is_enabled(flag, "alice")


def test_enabled_flags_are_sorted():
    flags = [Flag("zeta"), Flag("alpha"), Flag("off", enabled=False, allow=frozenset({"u"}))]
    assert enabled_flags(flags, "u") == ["alpha", "zeta"]


@pytest.mark.parametrize("percent", [-1, 101])
def test_rejects_bad_percentages(percent):
    with pytest.raises(ValueError):
        Flag("x", rollout_percent=percent)
