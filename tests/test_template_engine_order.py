"""The order in which the template engine proposes its candidates, on given sources and an
analysis: what a failure says decides which edits come first."""

from __future__ import annotations

from pathlib import Path

from bot.models import FailureClass, Frame, Location
from tests.template_engine_helpers import failure, new_text, proposals

BRACKET = (
    "def split(seeds):\n"  # 1
    "    middle = len(seeds) // 2\n"
    "    top, bottom = seeds[:middle], seeds[middle:]\n"
    "    if len(top) == 1:\n"  # 4
    "        upper = top[0]\n"
    "    else:\n"
    "        upper = split(top)\n"  # 7
    "    if len(bottom) != 1:\n"  # 8
    "        lower = bottom[0]\n"
    "    else:\n"
    "        lower = split(bottom)\n"
    "    return (upper, lower)\n"
)
FIXED = BRACKET.replace("len(bottom) != 1", "len(bottom) == 1")
# the recursion repeats on the line that recurses into the (empty) top half
SPECTRUM = [Location("bracket.py", line, "split", 1.0, "spectrum") for line in (2, 3, 4, 8, 12)]
TRACEBACK = [Location("bracket.py", 7, "split", 5.0, "traceback"), *SPECTRUM]


def test_a_recursion_error_tries_the_base_case_conditions_first(tmp_path: Path) -> None:
    frames = (Frame("bracket.py", 11, "split"), Frame("bracket.py", 7, "split"))
    recursing = failure(FailureClass.RUNTIME_SAFETY, "RecursionError", frames)
    found = proposals({"bracket.py": BRACKET}, TRACEBACK, [recursing], tmp_path)
    first = found[:8]
    assert FIXED in [new_text(c) for c in first]
    assert {c.template for c in first} <= {"comparison-operator", "negate-condition"}
    # the off-by-one that stops this recursion too, but breaks three-player halves, comes later
    off = BRACKET.replace("len(bottom) != 1", "len(bottom) != 2")
    texts = [new_text(c) for c in found]
    assert texts.index(FIXED) < texts.index(off)


def test_without_a_recursion_error_the_conditions_keep_their_rank(tmp_path: Path) -> None:
    asserting = failure(FailureClass.RUNTIME_SAFETY, "IndexError")
    found = proposals({"bracket.py": BRACKET}, TRACEBACK, [asserting], tmp_path)
    assert FIXED not in [new_text(c) for c in found[:8]]


DIALECTS = (
    "class Dialect:\n"
    "    def __init__(self, name, **options):\n"
    "        self.name = name\n"
    "        self.separator = options.get('separator', ',')\n"
    "        self.skip_blank = options.get('skip_blank', False)\n"
    "\n"
    "\n"
    "COMMA = Dialect('comma')\n"
)
READER = (
    "from dialects import COMMA\n"
    "\n"
    "\n"
    "def rows(text, dialect=COMMA):\n"
    "    out = []\n"
    "    for line in text.splitlines():\n"
    "        if dialect.skip_blank and not line.strip():\n"
    "            continue\n"
    "        out.append(line.split(dialect.separator))\n"
    "    return out\n"
)


def test_the_engine_flips_the_flag_where_it_was_set_among_its_first_candidates(
    tmp_path: Path,
) -> None:
    sources = {"dialects.py": DIALECTS, "reader.py": READER}
    locations = [Location("reader.py", line, "rows", 0.63, "spectrum") for line in (5, 6, 7, 9, 10)]
    found = proposals(sources, locations, [failure(FailureClass.LOGIC, "AssertionError")], tmp_path)
    fixed = DIALECTS.replace("'skip_blank', False", "'skip_blank', True")
    position = [new_text(c) for c in found].index(fixed)
    assert found[position].template == "boolean-flip"
    assert position < 48  # within the first batch a repair screens
    # where the value is set, nothing but its literals changes
    origin_edits = [c for c in found if "dialects.py" in c.description]
    assert {c.template for c in origin_edits} <= {"boolean-flip", "constant", "off-by-one"}


def test_the_engine_offers_the_constants_of_the_modules_a_module_imports(tmp_path: Path) -> None:
    sources = {
        "shop/__init__.py": "",
        "shop/settings.py": "DEFAULT_PAGE_SIZE = 20\nMAX_PAGE_SIZE = 100\n",
        "shop/pages.py": (
            "from shop import settings\n"
            "\n"
            "\n"
            "def page_size(requested):\n"
            "    if requested is None:\n"
            "        return settings.DEFAULT_PAGE_SIZE\n"
            "    return max(1, min(requested, 50))\n"
        ),
    }
    locations = [Location("shop/pages.py", line, "page_size", 0.7, "spectrum") for line in (5, 7)]
    found = proposals(sources, locations, [failure(FailureClass.LOGIC, "AssertionError")], tmp_path)
    fixed = sources["shop/pages.py"].replace(", 50)", ", settings.MAX_PAGE_SIZE)")
    texts = [new_text(c) for c in found]
    assert fixed in texts[:48]
    assert found[texts.index(fixed)].template == "project-constant"
