"""Refuse a candidate that adds dangerous calls its function did not already make.

A patch is code mendbot is about to run. Whatever engine proposed it (a model's reply above
all), a candidate that makes a function start a process, open a connection, run dynamic code,
load native code, unpickle data or write or delete outside the project is refused before it is
ever screened. The comparison is per function (and per class body, and the module's own
statements), old against new, on the AST: a function that already calls ``subprocess.run``
may keep doing so; a function that starts to call ``os.system`` may not.

Names are resolved through the module's imports (``import os as o``, ``from subprocess import
run``), and references count as well as calls (``launch = os.system`` is as dangerous as
``os.system(...)``).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.analysis.source import changed_statements, parse
from bot.models import Candidate

# a dotted name is dangerous when it equals one of these, or starts with one followed by a dot
DANGEROUS_MODULES = {
    "subprocess": "starts a process",
    "pty": "starts a process",
    "socket": "opens a network connection",
    "ssl": "opens a network connection",
    "urllib": "opens a network connection",
    "http.client": "opens a network connection",
    "http.server": "opens a network connection",
    "ftplib": "opens a network connection",
    "smtplib": "opens a network connection",
    "telnetlib": "opens a network connection",
    "xmlrpc": "opens a network connection",
    "requests": "opens a network connection",
    "httpx": "opens a network connection",
    "aiohttp": "opens a network connection",
    "urllib3": "opens a network connection",
    "paramiko": "opens a network connection",
    "ctypes": "loads native code",
    "cffi": "loads native code",
    "runpy": "runs dynamic code",
    "marshal": "loads code from bytes",
}
DANGEROUS_NAMES = {
    "os.system": "starts a process",
    "os.popen": "starts a process",
    "os.fork": "starts a process",
    "os.forkpty": "starts a process",
    "os.kill": "signals a process",
    "os.killpg": "signals a process",
    "os.posix_spawn": "starts a process",
    "os.posix_spawnp": "starts a process",
    "asyncio.create_subprocess_exec": "starts a process",
    "asyncio.create_subprocess_shell": "starts a process",
    "multiprocessing.Process": "starts a process",
    "eval": "runs dynamic code",
    "exec": "runs dynamic code",
    "compile": "compiles dynamic code",
    "__import__": "imports a module by name",
    "importlib.import_module": "imports a module by name",
    "importlib.__import__": "imports a module by name",
    "builtins.eval": "runs dynamic code",
    "builtins.exec": "runs dynamic code",
    "pickle.loads": "unpickles data",
    "pickle.load": "unpickles data",
    "shelve.open": "unpickles data",
    "dill.loads": "unpickles data",
    "yaml.unsafe_load": "loads arbitrary objects",
    "shutil.rmtree": "deletes a folder tree",
    "os.setuid": "changes the process's identity",
    "os.chroot": "changes the process's root",
}
DANGEROUS_PREFIXES = ("os.exec", "os.spawn")
# calls that write or delete, dangerous when their path is absolute or in the home folder
PATH_WRITERS = {
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "os.removedirs",
    "os.rename",
    "os.renames",
    "os.replace",
    "os.chmod",
    "os.chown",
    "os.truncate",
    "os.symlink",
    "os.link",
    "os.makedirs",
    "os.mkdir",
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
}
PATH_METHODS = {
    "write_text",
    "write_bytes",
    "unlink",
    "rmdir",
    "touch",
    "mkdir",
    "rename",
    "replace",
    "chmod",
    "symlink_to",
    "hardlink_to",
}
PATH_CLASSES = {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "Path", "PosixPath"}
OPENERS = {"open", "io.open", "builtins.open", "os.open", "codecs.open"}
WRITE_MODES = set("wax+")
MODULE_SCOPE = "<module>"


@dataclass(frozen=True)
class Finding:
    scope: str  # the function's qualified name, a class's, or <module>
    what: str  # "os.system", "open('/etc/...') for writing", ...
    why: str  # "starts a process"
    line: int

    def describe(self, path: str) -> str:
        where = "module level" if self.scope == MODULE_SCOPE else self.scope
        return f"{self.what} ({self.why}) in {where} at {path}:{self.line}"


def _imports(tree: ast.AST) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from every import of the module."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _dotted(node: ast.AST, aliases: Mapping[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):  # __import__("os").system, Path("/x").write_text
        inner = _dotted(node.func, aliases)
        if inner is None:
            return None
        return ".".join([f"{inner}()", *reversed(parts)])
    if not isinstance(node, ast.Name):
        return None
    return ".".join([aliases.get(node.id, node.id), *reversed(parts)])


def _danger(name: str) -> str | None:
    if name in DANGEROUS_NAMES:
        return DANGEROUS_NAMES[name]
    for module, why in DANGEROUS_MODULES.items():
        if name == module or name.startswith(module + "."):
            return why
    if any(name.startswith(prefix) for prefix in DANGEROUS_PREFIXES):
        return "starts a process"
    return None


def _absolute(node: ast.AST | None, aliases: Mapping[str, str]) -> bool:
    """Whether ``node`` is a path written out as absolute (or in the home folder)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        text = node.value.decode(errors="replace") if isinstance(node.value, bytes) else node.value
        return text.startswith(("/", "~", "\\\\")) or (len(text) > 2 and text[1:3] == ":\\")
    if isinstance(node, ast.JoinedStr):
        return bool(node.values) and _absolute(node.values[0], aliases)
    if isinstance(node, ast.BinOp):
        return _absolute(node.left, aliases)
    if isinstance(node, ast.Call) and node.args:
        name = _dotted(node.func, aliases) or ""
        if name in PATH_CLASSES or name in ("os.path.join", "os.path.expanduser"):
            return _absolute(node.args[0], aliases)
    return False


def _write_mode(call: ast.Call) -> bool:
    mode: ast.AST | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg in ("mode", "flags"):
            mode = keyword.value
    if mode is None:
        return False
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return bool(WRITE_MODES & set(mode.value))
    return True  # os.open flags, or a mode not written out: assume it may write


def _path_finding(call: ast.Call, name: str, aliases: Mapping[str, str]) -> tuple[str, str] | None:
    first = call.args[0] if call.args else None
    if name in OPENERS and _absolute(first, aliases) and _write_mode(call):
        return f"{name}() of an absolute path for writing", "writes outside the project"
    if name in PATH_WRITERS and any(_absolute(arg, aliases) for arg in call.args):
        return f"{name}() of an absolute path", "writes or deletes outside the project"
    if isinstance(call.func, ast.Attribute) and call.func.attr in PATH_METHODS | {"open"}:
        target = call.func.value
        if _absolute(target, aliases) and (call.func.attr != "open" or _write_mode(call)):
            what = f"Path(...).{call.func.attr}() of an absolute path"
            return what, "writes or deletes outside the project"
    return None


class _Collector(ast.NodeVisitor):
    def __init__(self, aliases: Mapping[str, str]) -> None:
        self.aliases = aliases
        self.scopes: list[str] = []
        self.found: list[Finding] = []

    @property
    def scope(self) -> str:
        return ".".join(self.scopes) or MODULE_SCOPE

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scopes.append(node.name)
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    visit_FunctionDef = _enter
    visit_AsyncFunctionDef = _enter
    visit_ClassDef = _enter

    def _add(self, what: str, why: str, node: ast.AST) -> None:
        self.found.append(Finding(self.scope, what, why, getattr(node, "lineno", 0)))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = _dotted(node, self.aliases)
        why = _danger(name) if name else None
        if name and why:
            self._add(name, why, node)
            return  # the inner parts of the same name are not findings of their own
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            name = self.aliases.get(node.id, node.id)
            why = _danger(name)
            if why:
                self._add(name, why, node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func, self.aliases) or ""
        path = _path_finding(node, name, self.aliases)
        if path:
            self._add(*path, node)
        self.generic_visit(node)


@functools.lru_cache(maxsize=128)
def _imports_of(source: str) -> dict[str, str]:
    tree = parse(source)
    return {} if tree is None else _imports(tree)


@functools.lru_cache(maxsize=256)
def findings(source: str, imported: tuple[tuple[str, str], ...] = ()) -> tuple[Finding, ...]:
    """Every dangerous reference in ``source``; () when it does not parse. ``imported``: names
    imported elsewhere in the module (``source`` is a part of it). Cached: the file a batch of
    candidates edits is read once."""
    tree = parse(source)
    if tree is None:
        return ()
    collector = _Collector({**dict(imported), **_imports(tree)})
    collector.visit(tree)
    return tuple(collector.found)


def added_dangers(old_source: str, new_source: str) -> list[Finding]:
    """What ``new_source`` does that the same function (class, module) of ``old_source`` did
    not: one finding per new kind of dangerous call in each scope.

    Where the edit stays within some top-level statements, only those are compared (the
    rest of the module is the same on both sides), with the names the whole module imports."""
    part = changed_statements(old_source, new_source)
    if part is None:
        old_found, new_found = findings(old_source), findings(new_source)
    else:
        imported = tuple(sorted(_imports_of(old_source).items()))
        old_found, new_found = findings(part[0], imported), findings(part[1], imported)
    before = {(item.scope, item.what) for item in old_found}
    added: dict[tuple[str, str], Finding] = {}
    for item in new_found:
        key = (item.scope, item.what)
        if key not in before:
            added.setdefault(key, item)
    return list(added.values())


def refusal(edits: Iterable[tuple[str, str, str]]) -> str:
    """Why a candidate's ``(path, old text, new text)`` edits are refused, or "" when not."""
    problems: list[str] = []
    for path, old_text, new_text in edits:
        problems += [item.describe(path) for item in added_dangers(old_text, new_text)]
    if not problems:
        return ""
    shown: Sequence[str] = problems[:3]
    more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
    return "adds dangerous calls the code did not make: " + "; ".join(shown) + more


def candidate_refusal(candidate: Candidate, *sources: Mapping[str, str]) -> str:
    """:func:`refusal` for a candidate, each edit compared with its file in ``sources``."""

    def before(path: str) -> str:
        return next((texts[path] for texts in sources if path in texts), "")

    return refusal((edit.path, before(edit.path), edit.new_text) for edit in candidate.edits)
