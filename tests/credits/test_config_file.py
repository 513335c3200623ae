"""config/credit_rules.toml documents every setting of every rule, at the value the rule uses."""

from __future__ import annotations

import re
from pathlib import Path

from lti_tool.credits.registry import load_rulebook

CONFIG = Path(__file__).resolve().parents[2] / "config" / "credit_rules.toml"


def test_the_shipped_file_overrides_nothing() -> None:
    shipped = load_rulebook(CONFIG)
    defaults = load_rulebook()
    for rule in defaults:
        assert shipped.get(rule.credential).settings_snapshot() == rule.settings_snapshot()


def test_uncommented_it_documents_every_key_at_its_default(tmp_path: Path) -> None:
    text = CONFIG.read_text()
    uncommented = re.sub(r"(?m)^# (\[[a-z-]+\]|[a-z_]+ = )", r"\1", text)
    path = tmp_path / "credit_rules.toml"
    path.write_text(uncommented)
    documented = load_rulebook(path)
    for rule in load_rulebook():
        assert f"[{rule.credential}]" in uncommented
        for key in rule.settings_snapshot():
            assert re.search(rf"(?ms)^\[{re.escape(rule.credential)}\]$(?:(?!^\[).)*^{key} = ", uncommented), (
                f"{rule.credential}.{key} is not documented")
        assert documented.get(rule.credential).settings_snapshot() == rule.settings_snapshot()
