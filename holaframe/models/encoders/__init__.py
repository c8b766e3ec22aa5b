"""Video and audio encoders."""

__all__: list = []
