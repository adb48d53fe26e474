"""Disposisi's routing model: Indonesian complaint text -> responsible agency."""
from .model import ComplaintTextError, RoutingModel, Suggestion, validate_text
from .persistence import ModelLoadError
from .registry import DEFAULT_REGISTRY, Agency, Registry, RegistryError

__all__ = [
    "Agency", "ComplaintTextError", "DEFAULT_REGISTRY", "ModelLoadError", "Registry", "RegistryError",
    "RoutingModel", "Suggestion", "validate_text",
]
