"""Disposisi's routing model: Indonesian complaint text -> responsible agency.

Names are imported on first use (PEP 562), so ``from routing_model.errors import ...`` or
``routing_model.places.regions`` do not load scikit-learn: `disposisi registry ...` and every CLI error
path start fast.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Agency": ".registry.agencies",
    "DEFAULT_REGISTRY": ".registry.agencies",
    "Registry": ".registry.agencies",
    "RegistryError": ".registry.agencies",
    "ComplaintTextError": ".text.validation",
    "RoutingModel": ".model.routing",
    "Suggestion": ".model.predict.suggestion",
    "validate_text": ".text.validation",
    "ModelLoadError": ".artifact.persistence",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
