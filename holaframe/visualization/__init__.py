"""Visualisation. holaframe uses MMEngine's visualiser and backends; this is their scope."""

__all__: list = []
