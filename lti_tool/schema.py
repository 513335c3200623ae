"""Creating and upgrading the database schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from lti_tool.credits.registry import Rulebook

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head", rulebook: Rulebook | None = None) -> None:
    """Create the schema or bring it up to ``revision``. ``rulebook``: the deployment's credit
    rules (``config/credit_rules.toml`` and its time zone), for a migration that computes what the
    plugins compute (0006 keys old awards by their cycles); without it, the plugins' defaults in UTC."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["rulebook"] = rulebook
        command.upgrade(config, revision)
