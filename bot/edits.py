"""Apply an edit to source text, and decide which paths an edit may touch.

Three kinds of edit, each checked with ``ast`` after it is applied:

- SEARCH/REPLACE: find the SEARCH lines (exactly, then ignoring whitespace, then fuzzily above
  a similarity threshold) and put the REPLACE lines there. A SEARCH that matches more than one
  place is refused rather than guessed.
- function replacement: swap whole ``def`` blocks for new ones of the same name, keeping the
  signature unless the caller allows a change.
- whole file: the new text must still define every top-level name the old one did.

Rejections are ``EditRejected`` with a reason a person (or a model, on the next try) can act on.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FUZZY_THRESHOLD = 0.9
AMBIGUITY_MARGIN = 0.03
MAX_FUZZY_LINES = 4000

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class EditRejected(Exception):
    """An edit that cannot be applied; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- path guards ------------------------------------------------------------------------------


def is_test_path(path: str) -> bool:
    posix = PurePosixPath(path)
    name = posix.name
    if name == "conftest.py" or (name.startswith("test_") and name.endswith(".py")):
        return True
    if name.endswith("_test.py"):
        return True
    return any(part in ("tests", "test", "testing") for part in posix.parts[:-1])


def _glob_matches(path: str, pattern: str) -> bool:
    pattern = pattern.strip().lstrip("/")
    if not pattern:
        return False
    if pattern.endswith("/**") and (path + "/").startswith(pattern[:-2]):
        return True
    if fnmatch.fnmatchcase(path, pattern):
        return True
    # a pattern without a slash names a file at any depth, as in .gitignore
    return "/" not in pattern and fnmatch.fnmatchcase(PurePosixPath(path).name, pattern)


def check_path(
    path: str,
    project_dir: Path,
    protected_globs: Sequence[str] = (".github/**",),
    allow_tests: bool = False,
) -> str | None:
    """Why ``path`` (project-relative, posix) may not be changed, or None when it may."""
    if not path or path != path.strip():
        return f"{path!r} is not a usable path"
    if "\x00" in path or "\\" in path:
        return f"{path!r} contains characters a project path may not have"
    posix = PurePosixPath(path)
    if posix.is_absolute() or re.match(r"^[A-Za-z]:", path):
        return f"{path} is an absolute path; edits must stay inside the project"
    if ".." in posix.parts:
        return f"{path} leaves the project (..); edits must stay inside it"
    if ".github" in posix.parts:
        return f"{path} is under .github/, which mendbot never changes"
    if ".git" in posix.parts:
        return f"{path} is inside git's own data"
    root = project_dir.resolve()
    if not (project_dir / path).resolve().is_relative_to(root):
        return f"{path} resolves outside the project (through a symbolic link)"
    normalized = posix.as_posix()
    for pattern in protected_globs:
        if _glob_matches(normalized, pattern):
            return f"{path} is protected (setting protected = {pattern!r})"
    if not allow_tests and is_test_path(normalized):
        return f"{path} is a test file; tests change only when test edits are allowed"
    return None


# -- syntax -----------------------------------------------------------------------------------


def syntax_problem(text: str, path: str = "<edit>") -> str | None:
    try:
        ast.parse(text, filename=path)
    except SyntaxError as error:
        return f"syntax error in {path} line {error.lineno}: {error.msg}"
    except ValueError as error:  # null bytes
        return f"{path} cannot be parsed: {error}"
    return None


def normalized_dump(text: str) -> str | None:
    """A form of the code that ignores comments, formatting and docstring whitespace."""
    try:
        return ast.dump(ast.parse(text))
    except (SyntaxError, ValueError):
        return None


# -- SEARCH/REPLACE ---------------------------------------------------------------------------


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _squash(line: str) -> str:
    return " ".join(line.split())


def _trim_blank_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _reindent(lines: list[str], search_indent: str, found_indent: str) -> list[str]:
    """Shift replacement lines by the indentation difference between SEARCH and the file."""
    if search_indent == found_indent:
        return lines
    result = []
    for line in lines:
        if not line.strip():
            result.append(line)
        elif line.startswith(search_indent):
            result.append(found_indent + line[len(search_indent) :])
        else:
            result.append(found_indent + line.lstrip())
    return result


def _line_matches(text_lines: list[str], search_lines: list[str]) -> list[int]:
    starts = []
    size = len(search_lines)
    for start in range(len(text_lines) - size + 1):
        if all(_squash(text_lines[start + i]) == _squash(search_lines[i]) for i in range(size)):
            starts.append(start)
    return starts


def _fuzzy_match(text_lines: list[str], search_lines: list[str], threshold: float) -> int:
    """Start line of the one window most similar to SEARCH; refuses weak or ambiguous matches."""
    if len(text_lines) > MAX_FUZZY_LINES:
        raise EditRejected("SEARCH block not found, and the file is too large for a fuzzy match")
    size = len(search_lines)
    target = "\n".join(_squash(line) for line in search_lines)
    scored: list[tuple[float, int]] = []
    for start in range(0, max(1, len(text_lines) - size + 1)):
        window = "\n".join(_squash(line) for line in text_lines[start : start + size])
        matcher = difflib.SequenceMatcher(None, window, target, autojunk=False)
        if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
            continue
        scored.append((matcher.ratio(), start))
    scored = [item for item in scored if item[0] >= threshold]
    if not scored:
        raise EditRejected(
            "SEARCH block not found in the file (not exactly, not ignoring whitespace, "
            f"and nothing {int(threshold * 100)}% similar); copy the lines exactly"
        )
    scored.sort(reverse=True)
    best_ratio, best_start = scored[0]
    for ratio, start in scored[1:]:
        if abs(start - best_start) >= size and ratio >= best_ratio - AMBIGUITY_MARGIN:
            raise EditRejected(
                f"SEARCH block is ambiguous: it is about as similar to lines {best_start + 1} "
                f"and {start + 1}; include more surrounding lines"
            )
    return best_start


def apply_search_replace(
    text: str, search: str, replace: str, *, threshold: float = FUZZY_THRESHOLD
) -> tuple[str, str]:
    """Apply one SEARCH/REPLACE block; returns the new text and the strategy that matched."""
    search_lines = _trim_blank_edges(search.splitlines())
    replace_lines = _trim_blank_edges(replace.splitlines()) if replace.strip() else []
    if not search_lines:
        raise EditRejected("empty SEARCH block: copy the lines to change into it")
    text_lines = text.splitlines()
    trailing_newline = text.endswith("\n")
    size = len(search_lines)

    exact = [
        start
        for start in range(len(text_lines) - size + 1)
        if text_lines[start : start + size] == search_lines
    ]
    strategy = "exact"
    if len(exact) > 1:
        raise EditRejected(
            f"SEARCH block is ambiguous: it matches {len(exact)} places "
            f"(lines {', '.join(str(s + 1) for s in exact[:5])}); include more surrounding lines"
        )
    if exact:
        start = exact[0]
    else:
        tolerant = _line_matches(text_lines, search_lines)
        if len(tolerant) > 1:
            raise EditRejected(
                f"SEARCH block is ambiguous: ignoring whitespace it matches {len(tolerant)} "
                "places; include more surrounding lines"
            )
        if tolerant:
            start, strategy = tolerant[0], "whitespace"
        else:
            start, strategy = _fuzzy_match(text_lines, search_lines, threshold), "fuzzy"

    first_search = next(line for line in search_lines if line.strip())
    found = text_lines[start : start + size]
    first_found = next((line for line in found if line.strip()), first_search)
    new_lines = _reindent(replace_lines, _indent_of(first_search), _indent_of(first_found))
    result_lines = text_lines[:start] + new_lines + text_lines[start + size :]
    result = "\n".join(result_lines)
    if trailing_newline or not text:
        result += "\n"
    return result, strategy


# -- functions --------------------------------------------------------------------------------


def iter_functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, FunctionNode]]:
    """Every function and method with its qualified name (``Class.method``, ``outer.inner``)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from iter_functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from iter_functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.If | ast.Try | ast.With):
            yield from iter_functions(node, prefix)


def find_function(
    tree: ast.AST, qualname: str = "", line: int | None = None
) -> tuple[str, FunctionNode] | None:
    """By qualified name first, then the innermost function that contains ``line``."""
    functions = list(iter_functions(tree))
    for name, node in functions:
        if qualname and name == qualname:
            return name, node
    if line is not None:
        containing = [
            (name, node)
            for name, node in functions
            if _start_line(node) <= line <= (node.end_lineno or node.lineno)
        ]
        if containing:
            return max(containing, key=lambda item: _start_line(item[1]))
    short = qualname.rsplit(".", 1)[-1]
    matches = [(name, node) for name, node in functions if node.name == short]
    return matches[0] if short and len(matches) == 1 else None


def _start_line(node: FunctionNode) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def function_source(text: str, node: FunctionNode) -> str:
    lines = text.splitlines()
    return "\n".join(lines[_start_line(node) - 1 : node.end_lineno]) + "\n"


def signature_of(node: FunctionNode) -> str:
    kind = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{kind} {node.name}({ast.unparse(node.args)}){returns}"


def _dedent_by(lines: list[str], columns: int) -> list[str]:
    result = []
    for line in lines:
        head = line[:columns]
        result.append(line[columns:] if not head.strip() else line.lstrip())
    return result


def _signature_key(node: FunctionNode) -> str:
    returns = ast.dump(node.returns) if node.returns else ""
    return f"{type(node).__name__}|{ast.dump(node.args)}|{returns}"


def _match_reply_functions(
    old_tree: ast.Module, new_tree: ast.Module
) -> tuple[list[tuple[str, FunctionNode, FunctionNode]], list[str]]:
    """Pair the reply's outermost functions with the file's; also name the reply's new ones."""
    old_functions = dict(iter_functions(old_tree))
    pairs: list[tuple[str, FunctionNode, FunctionNode]] = []
    unknown: list[str] = []
    covered: list[tuple[int, int]] = []
    for name, node in iter_functions(new_tree):
        span = (node.lineno, node.end_lineno or node.lineno)
        if any(start <= span[0] and span[1] <= end for start, end in covered):
            continue  # nested inside a function already taken whole
        target = name if name in old_functions else None
        if target is None:
            same_short = [q for q in old_functions if q.rsplit(".", 1)[-1] == node.name]
            if len(same_short) == 1:
                target = same_short[0]
        if target is None:
            unknown.append(name)
            continue
        covered.append((_start_line(node), span[1]))
        pairs.append((target, old_functions[target], node))
    return pairs, unknown


def replace_functions(
    text: str,
    code: str,
    *,
    allow_signature_change: bool = False,
    allow_new_functions: bool = False,
    path: str = "<file>",
) -> tuple[str, list[str]]:
    """Replace each function the reply's ``code`` redefines; returns new text and their names.

    Functions the reply repeats unchanged are left alone, so a reply that echoes the whole file
    with one function fixed changes that function only. New imports in the reply are added.
    """
    try:
        old_tree = ast.parse(text)
    except SyntaxError:
        return _replace_in_broken_file(text, code, path=path)
    new_tree = parse_reply_code(code)
    pairs, unknown = _match_reply_functions(old_tree, new_tree)
    if unknown and not allow_new_functions:
        raise EditRejected(
            f"the reply adds new function(s) {', '.join(unknown)}; at this level only existing "
            "functions may change"
        )
    code_lines = code.splitlines()
    changes: list[tuple[int, int, list[str]]] = []
    changed: list[str] = []
    for qualname, old_node, new_node in pairs:
        if ast.dump(old_node) == ast.dump(new_node):
            continue
        if not allow_signature_change and _signature_key(old_node) != _signature_key(new_node):
            raise EditRejected(
                f"the reply changes the signature of {qualname}: {signature_of(old_node)} became "
                f"{signature_of(new_node)}; this failure class keeps signatures"
            )
        keep_decorators = not new_node.decorator_list and bool(old_node.decorator_list)
        new_start = new_node.lineno if keep_decorators else _start_line(new_node)
        old_start = old_node.lineno if keep_decorators else _start_line(old_node)
        body = code_lines[new_start - 1 : new_node.end_lineno]
        body = _dedent_by(body, new_node.col_offset)
        old_line = text.splitlines()[old_node.lineno - 1]
        indent = _indent_of(old_line)
        body = [indent + line if line.strip() else "" for line in body]
        changes.append((old_start, old_node.end_lineno or old_node.lineno, body))
        changed.append(qualname)
    lines = text.splitlines()
    for start, end, body in sorted(changes, reverse=True):
        lines[start - 1 : end] = body
    result = "\n".join(lines) + "\n"
    result, imports = _add_imports(result, new_tree)
    if not changed and not imports:
        return text, []
    problem = syntax_problem(result, path)
    if problem:
        raise EditRejected(f"the replaced function does not fit the file: {problem}")
    return result, changed + imports


def parse_reply_code(code: str) -> ast.Module:
    try:
        return ast.parse(code)
    except SyntaxError as error:
        raise EditRejected(
            f"the reply's code has a syntax error at line {error.lineno}: {error.msg}"
        ) from None


def _import_key(node: ast.Import | ast.ImportFrom) -> str:
    return ast.dump(node)


def _add_imports(text: str, new_tree: ast.Module) -> tuple[str, list[str]]:
    tree = ast.parse(text)
    present = {
        _import_key(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
    }
    wanted = [
        node
        for node in new_tree.body
        if isinstance(node, ast.Import | ast.ImportFrom) and _import_key(node) not in present
    ]
    if not wanted:
        return text, []
    anchor = 0
    for index, node in enumerate(tree.body):
        is_docstring = (
            index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        )
        if isinstance(node, ast.Import | ast.ImportFrom) or is_docstring:
            anchor = node.end_lineno or node.lineno
        else:
            break
    lines = text.splitlines()
    added = [ast.unparse(node) for node in wanted]
    lines[anchor:anchor] = added
    return "\n".join(lines) + "\n", added


def _replace_in_broken_file(text: str, code: str, *, path: str) -> tuple[str, list[str]]:
    """A file that does not parse: find each reply function's old block by its text."""
    new_tree = parse_reply_code(code)
    lines = text.splitlines()
    code_lines = code.splitlines()
    changed = []
    for node in new_tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        pattern = re.compile(rf"^(\s*)(async\s+def|def|class)\s+{re.escape(node.name)}\b")
        starts = [i for i, line in enumerate(lines) if pattern.match(line)]
        if len(starts) != 1:
            continue
        start = starts[0]
        indent = _indent_of(lines[start])
        end = start + 1
        while end < len(lines):
            line = lines[end]
            if (
                line.strip()
                and len(_indent_of(line)) <= len(indent)
                and not line.lstrip().startswith((")", "]", "}"))
            ):
                break
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        body = _dedent_by(code_lines[node.lineno - 1 : node.end_lineno], node.col_offset)
        lines[start:end] = [indent + line if line.strip() else "" for line in body]
        changed.append(node.name)
    if not changed:
        raise EditRejected(
            f"{path} does not parse and the reply's code matches none of its definitions; "
            "send the whole corrected file"
        )
    result = "\n".join(lines) + "\n"
    problem = syntax_problem(result, path)
    if problem:
        raise EditRejected(f"the file still does not parse after the edit: {problem}")
    return result, changed


# -- whole files ------------------------------------------------------------------------------


def top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def names_by_text(text: str) -> set[str]:
    """Top-level names of a file that may not parse: ``def``/``class`` lines at column 0."""
    return set(re.findall(r"^(?:async\s+def|def|class)\s+(\w+)", text, re.M))


def replace_file(old_text: str, new_text: str, *, path: str = "<file>") -> str:
    """A whole new file; refused when it does not parse or drops a top-level name."""
    if not new_text.endswith("\n"):
        new_text += "\n"
    problem = syntax_problem(new_text, path)
    if problem:
        raise EditRejected(problem)
    try:
        old_names = top_level_names(ast.parse(old_text))
    except SyntaxError:
        old_names = names_by_text(old_text)
    dropped = sorted(old_names - top_level_names(ast.parse(new_text)))
    if dropped:
        raise EditRejected(
            f"the new {path} drops {', '.join(dropped[:6])}; a regenerated file keeps every "
            "top-level name (send the complete file)"
        )
    return new_text


@dataclass(frozen=True)
class ChangeSummary:
    path: str
    how: str  # "search/replace (exact)", "function f", "whole file"
