"""Runner-side extensions (loops)."""

__all__: list = []
