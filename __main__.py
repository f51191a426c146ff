"""The hayhooks stacks: stack config -> model -> component -> exports."""

import pulumi
from hayhooks_pulumi import HayhooksContainer, HayhooksService, Target, load_stack_config

stack = load_stack_config()

if stack.target is Target.KUBERNETES:
    with stack.scope("service"):
        service = HayhooksService("hayhooks", stack.service, secret_values=stack.secret_values)
    pulumi.export("namespace", service.namespace)
    pulumi.export("serviceName", service.service_name)
    pulumi.export("internalUrl", service.internal_url)
    pulumi.export("publicUrl", service.public_url)
    pulumi.export("image", service.image)
    pulumi.export("imageDigest", service.image_digest)
    pulumi.export("env", service.env)
    pulumi.export("basicAuthUsername", service.basic_auth_username)
    pulumi.export("basicAuthPassword", service.basic_auth_password)
    pulumi.export("apiKeys", service.api_keys)
else:  # Target.DOCKER; load_stack_config refuses any other value
    with stack.scope("service"):
        container = HayhooksContainer("hayhooks", stack.service, secret_values=stack.secret_values)
    pulumi.export("containerName", container.container_name)
    pulumi.export("url", container.url)
    pulumi.export("imageDigest", container.image_digest)
    pulumi.export("env", container.env)
