"""config/exports.toml: a credential's own table, then [defaults], then what its plugin declares."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lti_tool import models
from lti_tool.credits.registry import load_rulebook
from lti_tool.db import table_of
from lti_tool.exports.config import (
    NAME_LIMIT,
    ExportConfigError,
    Exports,
    RuleDefaults,
    build_exports,
    load_export_config,
    rule_defaults,
)
from lti_tool.exports.discovery import discover
from tests.conftest import REPO


def exports_from(tmp_path: Path, text: str) -> Exports:
    path = tmp_path / "exports.toml"
    path.write_text(text)
    return build_exports(path, discover(), tmp_path, rule_defaults(load_rulebook()))


def test_without_a_word_in_the_file_each_body_gets_what_its_plugin_declares(tmp_path: Path) -> None:
    exports = exports_from(tmp_path, "")
    acmss, acmpe, iacet = (exports.binding(c) for c in ("acmss-cmss", "acmpe-cmpe", "iacet-ceu"))
    assert (acmss.exporter, acmss.requires) == ("acmss-remittance", ["number"])
    assert (acmpe.exporter, acmpe.requires) == ("statement", ["number"])
    assert (iacet.exporter, iacet.requires, iacet.destination) == ("statement", [], "directory")


def test_the_credentials_table_beats_defaults_which_beat_the_plugin(tmp_path: Path) -> None:
    exports = exports_from(tmp_path, """
[defaults]
exporter = "claims-csv"
deadline_days = 90
[credentials.acmss-cmss]
requires = ["number", "consent"]
deadline_days = 30
""")
    acmss, aama = exports.binding("acmss-cmss"), exports.binding("aama-cma")
    assert (acmss.exporter, acmss.requires, acmss.deadline_days) == ("claims-csv", ["number", "consent"], 30)
    assert (aama.exporter, aama.requires, aama.deadline_days) == ("claims-csv", ["number"], 90)


def test_the_shipped_file_loads_against_the_installed_plugins() -> None:
    exports = build_exports(REPO / "config" / "exports.toml", discover(), REPO / "instance",
                            rule_defaults(load_rulebook()))
    assert exports.deadline("acmss-cmss") is not None


def test_a_table_for_a_credential_no_plugin_provides_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportConfigError, match=r"exports.toml: credentials.acmss-cms: no provider plugin"):
        exports_from(tmp_path, '[credentials.acmss-cms]\ndeadline_days = 30\n')


def test_a_plugin_asking_for_a_learner_field_exports_cannot_check_is_refused() -> None:
    rule = SimpleNamespace(credential="x-y", export_format="statement", learner_fields=("licence",))
    with pytest.raises(ExportConfigError, match=r"plugin 'x-y': learner_fields \['licence'\]"):
        rule_defaults([rule])


def test_a_plugin_export_format_no_exporter_renders_is_refused_where_it_would_be_used(tmp_path: Path) -> None:
    path = tmp_path / "exports.toml"
    path.write_text("")
    rules = rule_defaults([SimpleNamespace(credential="x-y", export_format="fax", learner_fields=())])
    with pytest.raises(ExportConfigError, match=r"credentials.x-y.exporter: the plugin's export format 'fax'"):
        build_exports(path, discover(), tmp_path, rules)
    path.write_text('[credentials.x-y]\nexporter = "statement"\n')
    assert build_exports(path, discover(), tmp_path, rules).binding("x-y").exporter == "statement"


def test_the_readme_example_is_a_valid_configuration(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Exporters and destinations"):readme.index("## Running at scale")]
    example = section[section.index("# config/exports.toml"):]
    example = example[:example.index("```")]
    exports = exports_from(tmp_path, example)
    assert {"acmss-mail", "body-sftp", "body-api", "archive"} <= set(exports.destinations)
    assert [exports.binding(c).exporter for c in ("acmss-cmss", "aama-cma", "amt-rma")] == [
        "acmss-remittance", "open-badges", "statement"]
    for identifier in [*discover().exporters, *discover().destinations]:
        assert f"| `{identifier}`" in section and f'"{identifier}"' in section, identifier


def test_a_credential_nothing_configures_falls_back_to_the_claims_csv_in_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "exports.toml"
    path.write_text("")
    binding = build_exports(path, discover(), tmp_path).binding("acme-unknown")
    assert (binding.exporter, binding.destination, binding.requires, binding.cron) == (
        "claims-csv", "directory", [], None)


def test_a_destination_name_longer_than_its_column_is_refused_at_load(tmp_path: Path) -> None:
    name = "d" * (NAME_LIMIT + 1)
    with pytest.raises(ExportConfigError,
                       match=rf"exports.toml: destinations.{name}: a destination's name is at most {NAME_LIMIT}"):
        load_export_config(_written(tmp_path, f'[destinations.{name}]\ntype = "directory"\n'))
    at_limit = "d" * NAME_LIMIT
    exports = exports_from(tmp_path, f'[destinations.{at_limit}]\ntype = "directory"\n'
                                     f'[defaults]\ndestination = "{at_limit}"\n')
    assert exports.destination_name("aama-cma") == at_limit


@pytest.mark.parametrize("table", ["defaults", "credentials.acmss-cmss"])
@pytest.mark.parametrize("key", ["exporter", "destination"])
def test_an_exporter_or_destination_named_longer_than_its_column_is_refused_at_load(
        tmp_path: Path, table: str, key: str) -> None:
    path = _written(tmp_path, f'[{table}]\n{key} = "{"x" * (NAME_LIMIT + 1)}"\n')
    with pytest.raises(ExportConfigError, match=rf"exports.toml: {table}.{key}: .*at most {NAME_LIMIT} characters"):
        load_export_config(path)


def test_a_plugin_export_format_longer_than_its_column_is_refused(tmp_path: Path) -> None:
    rules = {"x-y": RuleDefaults("f" * (NAME_LIMIT + 1), ())}
    with pytest.raises(ExportConfigError, match=rf"credentials.x-y.exporter: .* longer than {NAME_LIMIT}"):
        build_exports(_written(tmp_path, ""), discover(), tmp_path, rules)


def test_the_name_limit_is_the_columns_that_store_the_names() -> None:
    columns = [table_of(models.ExportBatch).c.destination, table_of(models.ExportBatch).c.exporter,
               table_of(models.ExportAttempt).c.destination]
    assert {column.type.length for column in columns} == {NAME_LIMIT}  # type: ignore[attr-defined]


def _written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exports.toml"
    path.write_text(text)
    return path
