"""The hayhooks stacks: stack config -> model -> component -> exports."""

import pulumi
from hayhooks_pulumi import HayhooksContainer, HayhooksService, Target, load_stack_config

stack = load_stack_config()
component = HayhooksService if stack.target is Target.KUBERNETES else HayhooksContainer

with stack.scope("service"):
    hayhooks = component("hayhooks", stack.service, secret_values=stack.secret_values)
for name, value in hayhooks.exports.items():
    pulumi.export(name, value)
