"""Import a package's submodules without running its ``__init__`` until something needs it.

``wechatpy/__init__.py`` eagerly imports its HTTP client, pay and component
APIs (and with them ``requests``): about a third of the WeChat callback's
cold start, for code the callback never runs -- it needs only the pure
protocol modules (``wechatpy.parser``, ``.crypto``, ``.replies``, ``.messages``).
``defer_package_init("wechatpy")`` registers the package without executing
its ``__init__``; submodule imports work as usual (the package's ``__path__``
is set), and the first access to a name the package itself defines
(``from wechatpy import WeChatClient``) runs the real ``__init__`` then, so
nothing breaks -- it only costs the time when it is actually needed.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from typing import Any

_lock = threading.Lock()


def defer_package_init(name: str) -> None:
    """Register package ``name`` with its ``__init__`` deferred (no-op once it is imported)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} is not an importable package")
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    done = False

    def __getattr__(attr: str) -> Any:
        nonlocal done
        with _lock:
            if not done:
                done = True
                del module.__dict__["__getattr__"]
                loader.exec_module(module)  # the real __init__, into the same module object
        try:
            return module.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    module.__dict__["__getattr__"] = __getattr__  # PEP 562: the module's attribute fallback
    sys.modules[name] = module


def defer_modules(*names: str) -> None:
    """Register modules ``names`` so that importing them costs nothing until one of their names is used.

    For a function whose handler module imports its neighbours' services at
    the top (``push_queue`` imports the planner, the sender and the digest):
    the function's entry defers the ones it never runs, with the standard
    library's ``importlib.util.LazyLoader``.  If anything does use one, it is
    loaded then, whole -- only the cost moves, never the behaviour.  No-op for
    a module already imported.
    """
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            raise ImportError(f"{name} is not importable")
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)  # LazyLoader: runs the module at its first attribute access
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)  # ``from parent import child`` finds it without importing
