"""Building blocks shared by models (attention, transformer blocks, positions)."""

__all__: list = []
