"""Per-test coverage when the project's test environment has no coverage.py: mendbot measures
with its own copy, so localization still has the spectrum and not only the tracebacks."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

# what pytest needs to run, made visible to a bare virtualenv without coverage.py
PYTEST_PACKAGES = ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "py", "pygments")


def bare_environment(folder: Path) -> Path:
    """A virtualenv with pytest and without coverage.py (no network: pytest is linked in)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    shelf = folder / "shelf"
    shelf.mkdir()
    for name in PYTEST_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (shelf / source.name).symlink_to(source)
    (site / "shelf.pth").write_text(f"{shelf}\n")
    return python


def test_a_test_environment_without_coverage_still_gets_per_test_coverage(
    tmp_path: Path, make_repo, run_cli
) -> None:
    python = bare_environment(tmp_path / "env")
    assert subprocess.run([str(python), "-c", "import coverage"]).returncode != 0
    assert subprocess.run([str(python), "-m", "pytest", "--version"]).returncode == 0
    repo = make_repo(
        {
            "prices.py": """
                def total(prices):
                    return sum(prices) + 1


                def average(prices):
                    return sum(prices) / len(prices)
                """,
            "tests/test_prices.py": """
                from prices import average, total


                def test_total():
                    assert total([1, 2]) == 3


                def test_average():
                    assert average([2, 4]) == 3
                """,
        }
    )
    done = run_cli("fix", ".", "--json", "--python", str(python), cwd=repo)
    result = done.json()
    assert not any("could not measure" in w for w in result["warnings"]), result["warnings"]
    assert result["status"] == "fixed", (result["reason"], done.stderr[-2000:])
    assert "return sum(prices)\n" in result["diff"] or "+    return sum(prices)" in result["diff"]
