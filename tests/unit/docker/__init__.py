"""HayhooksContainer and the Docker builders (hayhooks_pulumi.docker), under the SDK mock engine."""
