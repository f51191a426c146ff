"""The network: its models, the egress the settings need, and the NetworkPolicy."""
