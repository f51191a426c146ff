"""The repository as a project: the config reference, CI workflows, packaging, the consumer example, `make bench`."""
