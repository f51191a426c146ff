"""The Gateway API edge: its models, checks and objects (the HTTPRoute, Envoy Gateway's SecurityPolicy and the
Secrets it reads, ReferenceGrants)."""
