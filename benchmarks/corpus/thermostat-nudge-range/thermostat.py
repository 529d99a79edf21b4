"""A room thermostat: a target temperature kept inside safe limits, a daily program
of setpoints, and manual nudges from the wall panel."""

from __future__ import annotations

from dataclasses import dataclass, field


class OutOfRange(ValueError):
    """A target temperature outside the thermostat's safe limits."""


@dataclass
class Thermostat:
    target: float = 20.0
    minimum: float = 5.0
    maximum: float = 30.0
    program: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.minimum >= self.maximum:
            raise ValueError("minimum must be below maximum")
        self.set_target(self.target)

    def set_target(self, value: float) -> None:
        if not self.minimum <= value <= self.maximum:
            raise OutOfRange(f"{value} °C is outside {self.minimum}-{self.maximum} °C")
        self.target = round(value, 1)

    def nudge(self, delta: float) -> float:
        """Raise or lower the target from the wall panel; returns the new target."""
        value = self.target + delta
        self.target = round(value, 1)
        return self.target

    def schedule(self, hour: int, value: float) -> None:
        """Program ``value`` to take effect at ``hour`` (0-23) every day."""
        if not 0 <= hour <= 23:
            raise ValueError("hour must be 0-23")
        if not self.minimum <= value <= self.maximum:
            raise OutOfRange(f"{value} °C is outside {self.minimum}-{self.maximum} °C")
        self.program[hour] = value

    def setpoint_at(self, hour: int) -> float:
        """The programmed target in force at ``hour``; the manual target if none applies."""
        earlier = [h for h in self.program if h <= hour]
        if earlier:
            return self.program[max(earlier)]
        if self.program:
            return self.program[max(self.program)]
        return self.target
