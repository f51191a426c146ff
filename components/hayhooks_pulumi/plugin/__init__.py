"""The component plugin: HayhooksService and HayhooksContainer for TypeScript, Go, C#, Java and YAML.

`pulumi package add <repo>/components` runs `components/__main__.py`, which hosts the components
with the Pulumi SDK's component provider. The SDK's analyzer reads the schema from
`schema_types.py`, generated from the pydantic models by `make schema`; nothing here is a second
copy of a config key.
"""
