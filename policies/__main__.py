"""Entry point of the policy pack; the rules are hayhooks_pulumi.policy.catalog, the adapters .pack."""

from hayhooks_pulumi.policy.pack import serve

serve()
