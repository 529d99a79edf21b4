import pytest

from thermostat import OutOfRange, Thermostat


def test_set_target_rounds_to_a_tenth():
    thermostat = Thermostat()
    thermostat.set_target(21.34)
    assert thermostat.target == 21.3


def test_set_target_outside_limits():
    with pytest.raises(OutOfRange):
        Thermostat().set_target(31)


def test_initial_target_is_checked():
    with pytest.raises(OutOfRange):
        Thermostat(target=2.0)


def test_nudge_moves_the_target():
    thermostat = Thermostat(target=20.0)
    assert thermostat.nudge(0.5) == 20.5
    assert thermostat.nudge(-1.5) == 19.0


def test_nudge_cannot_leave_the_safe_range():
    thermostat = Thermostat(target=29.5)
    with pytest.raises(OutOfRange):
        thermostat.nudge(1.0)
    assert thermostat.target == 29.5


def test_program_wraps_around_midnight():
    thermostat = Thermostat()
    thermostat.schedule(6, 21.0)
    thermostat.schedule(22, 17.0)
    assert [thermostat.setpoint_at(h) for h in (3, 6, 12, 23)] == [17.0, 21.0, 21.0, 17.0]


def test_schedule_validates_input():
    thermostat = Thermostat()
    with pytest.raises(ValueError):
        thermostat.schedule(24, 20.0)
    with pytest.raises(OutOfRange):
        thermostat.schedule(8, 40.0)
