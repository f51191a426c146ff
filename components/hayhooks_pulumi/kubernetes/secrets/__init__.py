"""Secrets: where each value comes from, what it needs, and the objects that carry it into the pods (ExternalSecret,
the Secrets the component writes, the CSI driver's SecretProviderClass)."""
