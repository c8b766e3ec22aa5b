"""Necks between encoders and fusion (e.g. temporal alignment, Sec. 3.2.2)."""

__all__: list = []
