"""The component plugin other languages use (hayhooks_pulumi.plugin): its schema and constructs."""
