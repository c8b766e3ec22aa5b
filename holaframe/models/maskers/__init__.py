"""Token maskers for masked autoencoding."""

__all__: list = []
