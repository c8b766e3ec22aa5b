"""High-level APIs (inference)."""

__all__: list = []
