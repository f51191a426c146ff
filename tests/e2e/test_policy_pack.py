"""The policy pack under the real engine, as `policies/hayhooks-policy-pack`: an executable the engine runs
directly (no language host), which starts the pack with the project's interpreter.

- The prod settings preview clean with it.
- A stack that breaks a mandatory policy fails its preview, with the policy's name and message.
- `--policy-pack-config` turns that policy advisory: the preview passes and still reports it.

The stack that breaks the policies is the prod stack file in the `development` profile with DEBUG logs, which
the components allow outside production and the pack forbids for any stack. Runs through the Automation API
(`preview(policy_packs=...)`, the `--policy-pack` flag); stand-ins as in tests/e2e/test_engine.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cluster import Cluster
from engine import Engine
from projects import project_copy

from .support import REPO

LAUNCHER = REPO / "policies" / "hayhooks-policy-pack"
PACK = "hayhooks-production-guide"
LOG_POLICY = "hayhooks-log-level"
DEBUG = {"profile": "development", "server.logLevel": "DEBUG"}


def test_prod_previews_clean_with_the_pack(cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path) -> None:
    engine = engines(project_copy(tmp_path, "prod", image=cluster.hayhooks_image), "prod")
    preview = engine.preview(policy_packs=[str(LAUNCHER)])
    assert preview.ok, preview.text()
    assert preview.policy_violations() == []
    assert f"Policies:\n    ✅ {PACK}" in preview.stdout or PACK in preview.stdout, preview.stdout


def test_a_mandatory_policy_fails_the_preview_and_its_config_makes_it_advisory(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path
) -> None:
    engine = engines(project_copy(tmp_path, "prod", changes=DEBUG, image=cluster.hayhooks_image), "prod")
    refused = engine.preview(policy_packs=[str(LAUNCHER)])
    assert not refused.ok
    [violation] = [v for v in refused.policy_violations() if v["policy_name"] == LOG_POLICY]
    assert violation["enforcement_level"] == "mandatory"
    assert violation["policy_pack_name"] == PACK
    assert "HAYHOOKS_LOG_LEVEL" in violation["message"] or "logLevel" in violation["message"]
    assert LOG_POLICY in refused.text()

    levels = tmp_path / "levels.json"
    levels.write_text(json.dumps({LOG_POLICY: "advisory"}))
    advised = engine.preview(policy_packs=[str(LAUNCHER)], policy_pack_configs=[str(levels)])
    assert advised.ok, advised.text()
    [violation] = [v for v in advised.policy_violations() if v["policy_name"] == LOG_POLICY]
    assert violation["enforcement_level"] == "advisory"
