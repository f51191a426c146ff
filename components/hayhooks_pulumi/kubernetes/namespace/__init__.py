"""The namespace: its model and its Namespace (or NamespacePatch)."""
