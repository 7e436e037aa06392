"""One generic registry helper, used for every pluggable concept (coders, scenarios, models, metrics).

A new implementation is one module that decorates its class or factory with ``REGISTRY.register("name")``;
the package that owns the registry imports its submodules with :func:`import_submodules`, so no central
list has to be edited. Another distribution (a member company's codec wheel) plugs in through an entry-point
group instead (:func:`load_entry_points`; the coders read ``harness.coders``, the scenarios
``harness.scenarios``), so the matrix picks up what is installed without the suite being edited.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import types
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """Unknown or duplicate name in a registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Maps names to implementations of one concept ("coder", "scenario", ...)."""

    def __init__(self, kind: str, on_register: Callable[[str, T], None] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._on_register = on_register  # e.g. give a registered class its name, so the two cannot differ

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise RegistryError(f"{self.kind} {name!r} is already registered")
            if self._on_register is not None:
                self._on_register(name, obj)
            self._entries[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise RegistryError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def holds(self, obj: object) -> bool:
        """Whether ``obj`` is registered under any name."""
        return any(entry is obj for entry in self._entries.values())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def import_submodules(package_name: str) -> None:
    """Import every module of a package so that their ``register`` decorators run."""
    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(package.__path__, package_name + "."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(info.name)


def load_entry_points(group: str, registry: Registry) -> list[str]:
    """Load the plug-ins installed under entry-point ``group``, in name order; returns their entry-point names.

    An entry point names a module (``toy_codec = "member_codec.toy"``: importing it runs its ``register``
    decorators) or an object (``toy = "member_codec:ToyCoder"``: registered under the entry point's name unless
    its module already registered it). A plug-in that fails to import stops the run with its distribution
    and entry point named, since a matrix silently missing a member's codec would be a wrong result.
    """
    loaded = []
    for point in sorted(importlib.metadata.entry_points(group=group), key=lambda p: p.name):
        dist = point.dist.name if point.dist is not None else "unknown distribution"
        try:
            obj = point.load()
        except Exception as exc:
            raise RegistryError(f"{registry.kind} plug-in {point.name!r} = {point.value!r} (entry point group "
                                f"{group!r}, distribution {dist}) failed to load: {type(exc).__name__}: {exc}; "
                                "fix or uninstall that distribution") from exc
        if not isinstance(obj, types.ModuleType) and not registry.holds(obj):
            registry.register(point.name)(obj)
        loaded.append(point.name)
    return loaded
