"""The packaged CRD schemas and their generator (hayhooks_pulumi.crds)."""
