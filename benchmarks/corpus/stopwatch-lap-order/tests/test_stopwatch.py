from stopwatch import Stopwatch


def test_one_lap():
    watch = Stopwatch(10.0)
    assert watch.lap(12.5) == 2.5


def test_laps_agree_with_the_list():
    watch = Stopwatch(0.0)
    returned = [watch.lap(t) for t in (1.25, 3.0, 3.5)]
    assert returned == watch.laps() == [1.25, 1.75, 0.5]


def test_a_clock_set_back_gives_a_negative_lap():
    watch = Stopwatch(100.0)
    assert watch.lap(99.0) == -1.0


def test_fastest():
    watch = Stopwatch(0.0)
    assert watch.fastest() is None
    watch.lap(4.0)
    watch.lap(5.0)
    assert watch.fastest() == 1.0


def test_laps_of_recorded_marks():
    watch = Stopwatch(0.0)
    watch.marks += [2.0, 2.5]
    assert watch.laps() == [2.0, 0.5]
    assert watch.fastest() == 0.5
