"""The component plugin's entry point: `pulumi package add <repo>/components` runs this file.

It serves HayhooksService and HayhooksContainer to the engine that started it, so TypeScript,
Go, C#, Java and YAML programs can construct them (see the README, "Other languages").
"""

from hayhooks_pulumi.plugin.provider import serve

if __name__ == "__main__":
    serve()
