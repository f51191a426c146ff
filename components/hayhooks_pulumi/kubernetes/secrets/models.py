"""Where secret values come from: an External Secrets store, an existing Secret, Pulumi config or the Secrets
Store CSI driver."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from ...model import ConfigModel, OneOfModel
from ...types import DnsLabel, FileName, GoDuration, Unit, absolute, sorted_keys


class StoreKind(StrEnum):
    """The kind of External Secrets store to read from."""

    CLUSTER_SECRET_STORE = "ClusterSecretStore"
    SECRET_STORE = "SecretStore"


# The least `secretStore.readyTimeoutSeconds` allows: an operator's first sync takes seconds.
READY_TIMEOUT_MIN = 10


class SecretStoreArgs(ConfigModel):
    """The External Secrets Operator store that `fromStore` secrets are read from."""

    name: DnsLabel
    """Name of the (Cluster)SecretStore."""
    kind: StoreKind = StoreKind.CLUSTER_SECRET_STORE
    """`ClusterSecretStore` or `SecretStore` (the latter in the service's namespace)."""
    refresh_interval: GoDuration = "1h"
    """How often the operator re-reads the store (a Go duration, e.g. `1h`, `15m`)."""
    ready_timeout_seconds: Annotated[int, Field(ge=READY_TIMEOUT_MIN, le=3600), Unit.SECONDS] = 300
    """Seconds `pulumi up` waits for the operator to sync each ExternalSecret (its `Ready` condition) before it
    fails, instead of going on to pods that cannot find their Secret."""


class FromStore(ConfigModel):
    """A value in the secret store."""

    remote_key: str = Field(min_length=1)
    """The key (path) of the secret in the store."""
    property: str | None = None
    """The property within that secret, for stores holding JSON or key/value maps."""
    version: str | None = None
    """A specific version, where the store versions secrets."""


class FromSecret(ConfigModel):
    """A key of a Secret that already exists in the namespace."""

    name: DnsLabel
    """Secret name."""
    key: str = Field(min_length=1)
    """Key in the Secret."""


class FromCsi(ConfigModel):
    """A file the Secrets Store CSI driver mounts from `secretProviderClass`."""

    object_name: FileName
    """The object's file name as the provider writes it (its `objectName`, or `objectAlias` where set)."""
    sync: bool = True
    """Sync the object into a Secret, so the variable holds its value (the driver creates that Secret while a pod
    mounts the volume); `false`: the variable holds the file's path and the value exists only in the mounted file."""


class SecretSource(OneOfModel):
    """Where one secret value comes from: exactly one of the keys."""

    from_store: FromStore | None = None
    """Read by the External Secrets Operator from `secretStore`."""
    from_secret: FromSecret | None = None
    """An existing Secret."""
    from_config: str | None = None
    """A Pulumi config key set with `pulumi config set --secret <key>`; kept secret into a Secret."""
    from_csi: FromCsi | None = None
    """Mounted by the Secrets Store CSI driver from `secretProviderClass`."""


class SecretProviderClassArgs(ConfigModel):
    """A Secrets Store CSI driver SecretProviderClass, mounted read-only into every pod; `fromCsi` secrets name
    its objects."""

    provider: DnsLabel
    """The CSI provider installed beside the driver, e.g. `vault`, `azure`, `aws`, `gcp`."""
    parameters: Annotated[dict[str, str], AfterValidator(sorted_keys)] = Field(default_factory=dict)
    """The provider's parameters, verbatim (e.g. for `vault`: `vaultAddress`, `roleName`, `objects`)."""
    mount_path: Annotated[str, absolute("/mnt/secrets-store")] = "/mnt/secrets-store"
    """Absolute path the objects are mounted at, read-only."""
    node_publish_secret_name: DnsLabel | None = None
    """A Secret with the credentials the provider uses to read the store, where it needs one (e.g. Azure without
    workload identity); unset: the provider authenticates as the pod's service account."""
