"""Service dependency graphs for the deploy tool, written as ``api -> db, cache`` lines.

The deploy order starts services only after everything they depend on.
"""

from __future__ import annotations


class CycleError(ValueError):
    """The dependencies loop, so no start order exists."""


class ServiceGraph:
    def __init__(self) -> None:
        self._deps: dict[str, list[str]] = {}

    @classmethod
    def parse(cls, text: str) -> ServiceGraph:
        graph = cls()
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            service, _, targets = line.partition("->")
            graph.add_service(service.strip())
            for target in targets.split(","):
                if target.strip():
                    graph.add_dependency(service.strip(), target.strip())
        return graph

    def add_service(self, name: str) -> None:
        self._deps.setdefault(name, [])

    def add_dependency(self, service: str, dependency: str) -> None:
        self.add_service(service)
        self.add_service(dependency)
        if dependency not in self._deps[service]:
            self._deps[service].append(dependency)

    def remove_dependency(self, service: str, dependency: str) -> None:
        """Forget that ``service`` needs ``dependency`` (no error if it did not)."""
        self._deps[service] = [d for d in self._deps[service] if d != dependency]

    def dependencies(self, service: str) -> list[str]:
        return list(self._deps[service])

    def start_order(self) -> list[str]:
        """Services ordered so each starts after its dependencies; ties alphabetical."""
        waiting = {name: set(deps) for name, deps in self._deps.items()}
        order: list[str] = []
        while waiting:
            ready = sorted(name for name, deps in waiting.items() if not deps)
            if not ready:
                raise CycleError(f"dependency cycle among: {', '.join(sorted(waiting))}")
            for name in ready:
                order.append(name)
                del waiting[name]
            for deps in waiting.values():
                deps.difference_update(ready)
        return order
