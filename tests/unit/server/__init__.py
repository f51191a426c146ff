"""The server settings and the env they write, against Hayhooks' own parser (hayhooks_pulumi.settings)."""
