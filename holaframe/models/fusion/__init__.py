"""Fusion blocks (cross-modal interaction, contextual fusion, HiCMAE fusion encoder)."""

__all__: list = []
