"""Disposisi's routing model: Indonesian complaint text -> responsible agency.

Names are imported on first use (PEP 562), so ``from routing_model.errors import ...`` or
``routing_model.regions`` do not load scikit-learn: `disposisi registry ...` and every CLI error
path start fast.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Agency": ".registry", "DEFAULT_REGISTRY": ".registry", "Registry": ".registry", "RegistryError": ".registry",
    "ComplaintTextError": ".validation", "RoutingModel": ".model", "Suggestion": ".suggestion",
    "validate_text": ".validation",
    "ModelLoadError": ".persistence",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
