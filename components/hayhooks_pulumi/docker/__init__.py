"""HayhooksContainer: Hayhooks on a local Docker engine.

A feature's model and what it refuses sit together (`workload`, `healthcheck`, `publish`, `logs`, `secrets`,
`envfile`), loading no provider SDK; `args` composes them, `plan` runs every check before anything registers,
one builder module per resource (`container`, `network`, `volume`, `remote_image`) makes its args, and
`component` only wires them.
"""
