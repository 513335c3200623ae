"""README.md keeps telling the truth about the plugin interface."""

from __future__ import annotations

from pathlib import Path

from lti_tool.credits.rule import CreditRule

README = Path(__file__).resolve().parents[1] / "README.md"


def plugin_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Writing a provider plugin")
    return text[start:text.index("\n## ", start + 1)]


def test_every_abstract_member_and_required_attribute_of_the_plugin_interface_is_documented() -> None:
    section = plugin_section()
    members = sorted(CreditRule.__abstractmethods__) + list(CreditRule.REQUIRED_ATTRIBUTES)
    assert members, "the interface has members to document"
    missing = [m for m in members if f"`{m}" not in section]
    assert not missing, f"README's 'Writing a provider plugin' does not document: {', '.join(missing)}"


def test_the_documented_entry_point_group_is_the_one_discovered() -> None:
    from lti_tool.credits.registry import GROUP

    assert f'[project.entry-points."{GROUP}"]' in plugin_section()
