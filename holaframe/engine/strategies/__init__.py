"""Training strategies (DeepSpeed)."""

__all__: list = []
