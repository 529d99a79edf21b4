import pytest

from servicedeps import CycleError, ServiceGraph

TEXT = """
# shop backend
api -> database, cache
worker -> queue, database
cache
"""


def test_parse_reads_dependencies():
    graph = ServiceGraph.parse(TEXT)
    assert graph.dependencies("api") == ["database", "cache"]
    assert graph.dependencies("cache") == []


def test_start_order():
    graph = ServiceGraph.parse(TEXT)
    assert graph.start_order() == ["cache", "database", "queue", "api", "worker"]


def test_cycle_is_reported():
    graph = ServiceGraph.parse("web -> auth\nauth -> web\n")
    with pytest.raises(CycleError, match="auth, web"):
        graph.start_order()


def test_remove_dependency_added_in_code():
    graph = ServiceGraph()
    graph.add_dependency("api", "database")
    graph.remove_dependency("api", "database")
    assert graph.dependencies("api") == []


def test_remove_dependency_from_parsed_graph():
    graph = ServiceGraph.parse(TEXT)
    graph.remove_dependency("worker", "database")
    assert graph.dependencies("worker") == ["queue"]


def test_removing_an_edge_breaks_a_cycle():
    graph = ServiceGraph.parse("web -> auth, static\nauth -> web, db\n")
    graph.remove_dependency("auth", "web")
    assert graph.start_order() == ["db", "static", "auth", "web"]


def test_duplicate_dependencies_are_ignored():
    graph = ServiceGraph.parse("api -> db, db\n")
    assert graph.dependencies("api") == ["db"]
