"""HayhooksService: Hayhooks on Kubernetes."""
