"""Outside development, ``serve`` does not let the Host header decide the tool's URLs."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lti_tool.cli.main import cli


@pytest.mark.parametrize("public_url", ["", "http://tool.example"])
def test_serve_refuses_to_start_without_an_https_public_url(cli_env: dict[str, str], public_url: str) -> None:
    env = {**cli_env, "LTI_TOOL_SERVER__DEVELOPMENT": "false", "LTI_TOOL_LTI__PUBLIC_URL": public_url}
    result = CliRunner().invoke(cli, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 2
    assert "lti.public_url" in result.output
