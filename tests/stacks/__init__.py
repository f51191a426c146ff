"""The repository's stacks and examples, rendered and checked as `make render` and `make check` do."""
