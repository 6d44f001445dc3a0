"""Thin entry modules for queue, stream and schedule functions: ``chalicelib/entries/<function>.py``.

Chalice names an event function's handler after the module that defines it
(``chalicelib.handlers.push_queue.send_pushes``), and such a module often
holds its neighbours too: ``push_queue`` imports the planner, the sender and
the digest, so each of the three functions would load all three at every
cold start.  When ``chalicelib/entries/<function name>.py`` exists, the
function's handler becomes ``chalicelib.entries.<function name>.handler``: the
entry defers what the function never runs (``chalicelib.entries.lazy``) and
then imports the handler.

The function's role is still derived from the handler function's own code
(``infra.access``); so that it stays right, an entry may import nothing but
``chalicelib.entries.*`` and, from its handler's module, the handler itself
bound as ``handler``.  Anything else fails the build.
"""

from __future__ import annotations

import ast
from pathlib import Path

from infra.access import module_file

ENTRY_PACKAGE = "chalicelib.entries"


class EntryError(Exception):
    """An entry module imports what its function's role does not account for."""


def entry_handler(project_dir: Path, function_name: str, handler: str) -> str | None:
    """The entry's handler string for an event function, or None if it has no entry module."""
    module = f"{ENTRY_PACKAGE}.{function_name}"
    path = module_file(project_dir, module)
    if path is None or path.name == "__init__.py":
        return None
    handler_module, _, handler_name = handler.rpartition(".")
    bound = False
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            raise EntryError(
                f"{module}: `import {', '.join(a.name for a in node.names)}`; an entry imports only "
                f"from {ENTRY_PACKAGE} and its handler `from {handler_module} import {handler_name}`"
            )
        if not isinstance(node, ast.ImportFrom):
            continue
        base = node.module or ""
        if node.level == 0 and (base == ENTRY_PACKAGE or base.startswith(f"{ENTRY_PACKAGE}.")):
            continue
        if (
            node.level == 0
            and base == handler_module
            and [(a.name, a.asname) for a in node.names] == [(handler_name, "handler")]
        ):
            bound = True
            continue
        raise EntryError(
            f"{module}: `from {base} import ...` is neither {ENTRY_PACKAGE} nor "
            f"`from {handler_module} import {handler_name} as handler`"
        )
    if not bound:
        raise EntryError(f"{module} does not bind `handler` to {handler}")
    return f"{module}.handler"
