"""The policy rules and the CrossGuard pack (hayhooks_pulumi.policy), on hand-written manifests."""
