"""Classification heads and auxiliary heads."""

__all__: list = []
