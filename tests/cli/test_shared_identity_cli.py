"""Every command taking ``--source`` resolves it to the source's *identity*: a source that shares
another's identities (an xAPI feed of the same Canvas) names the same learners, awards and mappings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result
from sqlalchemy import select

from lti_tool import models
from lti_tool.cli.main import cli as lti_cli
from lti_tool.runtime import Runtime
from tests.cli.test_export_cli import own_config
from tests.exports.ledger_rows import credit

# Commands whose --source is a source id; `platforms add|approve --source` take a name (tests/lti/test_cli.py).
SOURCE_ID_COMMANDS = {"audit packet", "awards list", "export consent", "learners confirm",
                      "learners credential add", "learners outside add", "learners outside list",
                      "learners progress", "learners transcript"}


def commands_with_source_id(group: click.Group, prefix: str = "") -> Iterator[str]:
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from commands_with_source_id(command, f"{path} ")
        elif any("--source" in p.opts and isinstance(p.type, click.types.IntParamType) for p in command.params):
            yield path


@pytest.fixture
def feed(runtime: Runtime, cli_json: Callable[..., Any]) -> str:
    """Learner 123 credited through canvas-prod; the id of an xAPI source sharing its identities."""
    credit(runtime.sessions, "123", "565", number="CMSS-1")
    with runtime.sessions() as session:
        primary = session.scalar(select(models.Source.name))
    added = cli_json("sources", "add", "--kind", "xapi", "--name", "lrs", "--same-identities-as", primary)
    return str(added["id"])


def primary_id(runtime: Runtime) -> str:
    with runtime.sessions() as session:
        return str(session.scalar(select(models.Source.id).where(models.Source.name == "canvas-prod")))


def test_every_command_taking_a_source_id_is_covered_here() -> None:
    assert set(commands_with_source_id(lti_cli)) == SOURCE_ID_COMMANDS


def test_consent_through_a_sharing_source_finds_the_learner_and_lets_claims_go(
    runtime: Runtime, cli_json: Callable[..., Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    own_config(cli_env, tmp_path, '[credentials.acmss-cmss]\nrequires = ["consent"]\n')
    credit(runtime.sessions, "123", "565")
    with runtime.sessions() as session:
        primary = session.scalar(select(models.Source.name))
    feed = cli_json("sources", "add", "--kind", "xapi", "--name", "lrs", "--same-identities-as", primary)
    given = cli_json("export", "consent", "--source", str(feed["id"]), "--user", "123",
                     "--credential", "acmss-cmss")
    assert given == {"credential": "acmss-cmss", "consent": True, "missing": []}
    assert len(cli_json("export", "run")["delivered"]) == 1


def test_awards_list_through_a_sharing_source_lists_the_identity_sources_awards(
    runtime: Runtime, cli_json: Callable[..., Any], feed: str
) -> None:
    through_feed = cli_json("awards", "list", "--source", feed, "--user", "123")
    assert [a["course"] for a in through_feed] == ["565"]
    assert through_feed == cli_json("awards", "list", "--source", primary_id(runtime), "--user", "123")


def test_credential_added_through_a_sharing_source_belongs_to_the_same_learner(
    runtime: Runtime, cli_json: Callable[..., Any], feed: str
) -> None:
    cli_json("learners", "credential", "add", "--source", feed, "--user", "123", "--credential",
             "acmss-cmss", "--certified-on", "2026-01-01")
    with runtime.sessions() as session:
        learners = session.scalars(select(models.Learner).where(models.Learner.lms_user_id == "123")).all()
    assert len(learners) == 1
    [progress] = cli_json("learners", "progress", "--source", primary_id(runtime), "--user", "123",
                          "--on", "2026-06-01")
    assert progress["credential"] == "acmss-cmss"


def test_progress_through_a_sharing_source_is_the_identity_sources(
    runtime: Runtime, cli_json: Callable[..., Any], feed: str
) -> None:
    cli_json("learners", "credential", "add", "--source", primary_id(runtime), "--user", "123",
             "--credential", "acmss-cmss", "--certified-on", "2026-01-01")
    through_feed = cli_json("learners", "progress", "--source", feed, "--user", "123", "--on", "2026-06-01")
    assert [p["credential"] for p in through_feed] == ["acmss-cmss"]
    assert through_feed == cli_json("learners", "progress", "--source", primary_id(runtime), "--user", "123",
                                    "--on", "2026-06-01")


def test_transcript_through_a_sharing_source_is_the_identity_sources(
    runtime: Runtime, cli: Callable[..., Result], feed: str, tmp_path: Path
) -> None:
    through_feed, through_primary = tmp_path / "feed.csv", tmp_path / "primary.csv"
    cli("learners", "transcript", "--source", feed, "--user", "123", "--credential", "acmss-cmss",
        "-o", str(through_feed))
    cli("learners", "transcript", "--source", primary_id(runtime), "--user", "123", "--credential", "acmss-cmss",
        "-o", str(through_primary))
    assert "565" in through_feed.read_text()
    assert through_feed.read_bytes() == through_primary.read_bytes()


def test_an_item_confirmed_through_a_sharing_source_belongs_to_the_same_learner(
    runtime: Runtime, cli_json: Callable[..., Any], feed: str
) -> None:
    cli_json("learners", "credential", "add", "--source", primary_id(runtime), "--user", "123",
             "--credential", "acmss-cmss", "--certified-on", "2026-01-01")
    cli_json("learners", "confirm", "--source", feed, "--user", "123", "--credential", "acmss-cmss",
             "--item", "annual-fee", "--on", "2026-02-01")
    [progress] = cli_json("learners", "progress", "--source", primary_id(runtime), "--user", "123",
                          "--on", "2026-06-01")
    assert [(i["id"], i["met"]) for i in progress["items"]] == [("annual-fee", True)]


def test_outside_credit_recorded_through_a_sharing_source_is_listed_for_the_same_learner(
    runtime: Runtime, cli_json: Callable[..., Any], feed: str
) -> None:
    cli_json("learners", "credential", "add", "--source", primary_id(runtime), "--user", "123",
             "--credential", "acmss-cmss", "--certified-on", "2026-01-01")
    recorded = cli_json("learners", "outside", "add", "--source", feed, "--user", "123", "--credential",
                        "acmss-cmss", "--title", "MLN webinar", "--provider", "CMS", "--date", "2026-03-02",
                        "--minutes", "45")
    listed = cli_json("learners", "outside", "list", "--source", primary_id(runtime), "--user", "123")
    assert [row["id"] for row in listed] == [recorded["id"]]
    assert listed == cli_json("learners", "outside", "list", "--source", feed, "--user", "123")


@pytest.mark.parametrize("command", [
    ("awards", "list", "--user", "123"),
    ("export", "consent", "--user", "123", "--credential", "acmss-cmss"),
    ("learners", "credential", "add", "--user", "123", "--credential", "acmss-cmss"),
    ("learners", "progress", "--user", "123"),
    ("learners", "transcript", "--user", "123", "--credential", "acmss-cmss", "-o", "t.csv"),
    ("learners", "confirm", "--user", "123", "--credential", "acmss-cmss", "--item", "annual-fee"),
    ("learners", "outside", "add", "--user", "123", "--credential", "acmss-cmss", "--title", "T",
     "--provider", "P", "--date", "2026-03-02", "--minutes", "45"),
    ("learners", "outside", "list", "--user", "123"),
])
def test_an_unknown_source_id_is_a_usage_error_naming_it(cli: Callable[..., Result], command: tuple[str, ...]) -> None:
    result = cli(*command, "--source", "999", expect=2)
    assert "no source with id 999" in result.output
