"""Every module of this package that defines ``DEFINITION`` is an Ed-Fi resource the sync sends.

Adding a resource is one module here plus its extract SQL file: discovery is automatic.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import ResourceDefinition
from .graph import ResourceGraph


def _discover() -> dict[str, ResourceDefinition]:
    found: dict[str, ResourceDefinition] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        definition = getattr(module, "DEFINITION", None)
        if isinstance(definition, ResourceDefinition):
            found[definition.name] = definition
    return found


RESOURCES: dict[str, ResourceDefinition] = _discover()
GRAPH = ResourceGraph(RESOURCES)

__all__ = ["GRAPH", "RESOURCES", "ResourceDefinition"]
