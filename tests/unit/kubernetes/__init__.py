"""HayhooksService and the Kubernetes builders (hayhooks_pulumi.kubernetes), under the SDK mock engine."""
