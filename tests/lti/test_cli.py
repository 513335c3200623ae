"""``lti-tool platforms``, ``lti-tool keys`` and the first key made by ``lti-tool init``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.lti.platform import TestPlatform


def test_platforms_add_prints_the_tool_urls(cli_json: Callable[..., Any], platform: TestPlatform) -> None:
    cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-1")
    added = cli_json(*platform.cli_args(source="canvas-1"), "--deployment-id", "d2", "--name", "Canvas")
    assert added["tool"]["login_url"].endswith("/lti/login")
    assert added["tool"]["jwks_url"].endswith("/.well-known/jwks.json")
    assert added["platform"]["deployment_ids"] == ["deployment-1", "d2"]
    [listed] = cli_json("platforms", "list")
    assert listed["source"] == "canvas-1" and listed["status"] == "active"


def test_canvas_shares_one_issuer_among_many_client_ids(cli_json: Callable[..., Any], platform: TestPlatform) -> None:
    cli_json(*platform.cli_args())
    other = TestPlatform(client_id="second-customer")
    other.base = platform.base
    cli_json(*other.cli_args())
    assert len(cli_json("platforms", "list")) == 2


def test_the_same_issuer_and_client_id_cannot_be_added_twice(cli: Callable[..., Any], platform: TestPlatform) -> None:
    cli(*platform.cli_args(), "--json")
    result = cli(*platform.cli_args(), "--json", expect=2)
    assert "exists" in result.output


def test_init_makes_the_first_key_once(cli: Callable[..., Any], cli_json: Callable[..., Any]) -> None:
    assert "generated" in cli("init").output
    assert "generated" not in cli("init").output
    assert len(cli_json("keys", "list")) == 1


def test_rotation_publishes_the_next_key_before_it_signs(cli: Callable[..., Any], cli_json: Callable[..., Any],
                                                         client: Any) -> None:
    cli("init")
    [first] = cli_json("keys", "list")
    rotated = cli_json("keys", "rotate")
    listed = {k["kid"]: k for k in cli_json("keys", "list")}
    assert set(listed) == {first["kid"], rotated["kid"]}
    assert listed[first["kid"]]["retired_at"] > rotated["activates_at"]
    published = {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert published == {first["kid"], rotated["kid"]}


def test_deployments_are_added_to_a_registered_platform_and_then_launch(
    cli_json: Callable[..., Any], launch: Any
) -> None:
    """Canvas makes a deployment per installation of the key: the operator adds each one."""
    second = launch.platform.claims(**{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-2"})
    refused = launch(second)
    assert refused.status_code == 403 and "add-deployment" in refused.get_data(as_text=True)
    [row] = cli_json("platforms", "list")
    added = cli_json("platforms", "add-deployment", str(row["id"]), "--deployment-id", "deployment-2",
                     "--deployment-id", "deployment-1")
    assert added["deployment_ids"] == ["deployment-1", "deployment-2"]
    again = launch.platform.claims(**{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "deployment-2"})
    assert launch(again).status_code == 303


def test_approving_a_dynamic_registration_can_add_its_deployment(
    cli: Callable[..., Any], cli_json: Callable[..., Any], platform: TestPlatform
) -> None:
    cli_json(*platform.cli_args())
    [row] = cli_json("platforms", "list")
    approved = cli_json("platforms", "approve", str(row["id"]), "--deployment-id", "17:abc")
    assert approved["deployment_ids"] == ["deployment-1", "17:abc"] and approved["status"] == "active"
    assert "no platform" in cli("platforms", "add-deployment", "999", "--deployment-id", "x", expect=2).output


def test_a_platform_linked_through_a_sharing_source_uses_the_identity_source(
    cli_json: Callable[..., Any], platform: TestPlatform
) -> None:
    cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-1")
    cli_json("sources", "add", "--kind", "xapi", "--name", "lrs", "--same-identities-as", "canvas-1")
    added = cli_json(*platform.cli_args(source="lrs"))
    assert added["platform"]["source"] == "canvas-1"
