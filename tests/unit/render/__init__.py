"""The render CLI (hayhooks_pulumi.render): what it may replace and write."""
