"""HayhooksContainer: Hayhooks on a local Docker engine."""
