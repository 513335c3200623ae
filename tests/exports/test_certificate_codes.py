"""Certificate codes and exporters: an exporter that may print a claim's certificate code gets the
award's code in every batch, the same code on every retry and the same as the learner's download;
batches of an exporter that never prints codes make none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.base import Exporter
from lti_tool.exports.claim import Claim, Rendered
from lti_tool.exports.config import build_exports, rule_defaults
from lti_tool.exports.discovery import discover
from lti_tool.runtime import Runtime
from lti_tool.services.export_batching import form_batches
from lti_tool.services.export_delivery import attempt_delivery, lease
from lti_tool.services.exporting import run_export_tick
from lti_tool.services.verification import code_for
from tests.exports.ledger_rows import credit


class CodePrinter(Exporter):
    """A third party's exporter that prints each claim's code and says nothing about codes."""

    identifier = "code-printer"
    verbose_name = "Codes"

    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        text = "".join(f"{c.award_id} {c.verify_code}\n" for c in claims)
        return [Rendered(f"{name}.txt", "text/plain", text.encode())]


def configure(runtime: Runtime, tmp_path: Path, text: str) -> None:
    path = tmp_path / "exports.toml"
    path.write_text(text)
    plugins = discover()
    plugins.exporters[CodePrinter.identifier] = CodePrinter
    runtime.exports = build_exports(path, plugins, runtime.settings.instance_dir, rule_defaults(runtime.rulebook))


def codes(runtime: Runtime) -> dict[int, str]:
    with read_session(runtime.sessions) as session:
        return {award: code for award, code in session.execute(
            select(models.CertificateCode.award_id, models.CertificateCode.code))}


def test_the_built_in_exporters_say_whether_they_print_codes() -> None:
    exporters = discover().exporters
    assert {name: cls.certificate_codes for name, cls in exporters.items()} == {
        "claims-csv": False, "statement": False, "open-badges": False, "acmss-remittance": True}
    assert CodePrinter.certificate_codes is True  # an exporter that does not say gets codes


def test_batches_make_codes_only_for_exporters_that_print_them(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, """
[defaults]
requires = []
[credentials.acmss-cmss]
exporter = "code-printer"
[credentials.aama-cma]
exporter = "claims-csv"
""")
    printed = credit(runtime.sessions, "u-1", "565", credential="acmss-cmss")
    plain = credit(runtime.sessions, "u-2", "566", credential="aama-cma")
    with write_session(runtime.sessions) as session:
        assert len(form_batches(session, models.utcnow(), runtime.exports)) == 2
    assert list(codes(runtime)) == [printed]
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    [delivered] = [d for d in report.delivered if d["credential"] == "acmss-cmss"]
    assert Path(delivered["file"]).read_text() == f"{printed} {codes(runtime)[printed]}\n"
    assert plain not in codes(runtime)


def test_a_printed_code_is_the_same_on_a_retry_and_on_the_learners_download(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, '[defaults]\nrequires = []\nexporter = "code-printer"\n')
    award_id = credit(runtime.sessions, "u-1", "565")
    now = models.utcnow()
    with write_session(runtime.sessions) as session:
        [batch_id] = form_batches(session, now, runtime.exports)
    first = lease(runtime.sessions, batch_id, now, 60)
    assert first is not None
    crashed = attempt_delivery(runtime.sessions, batch_id, first, runtime.exports, now)  # never recorded
    [path] = [Path(crashed.receipt["path"])] if crashed.receipt else []
    before = path.read_text()
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, now + timedelta(seconds=61))
    assert [(d["batch"], d["attempt"]) for d in report.delivered] == [(batch_id, 2)]
    assert path.read_text() == before == f"{award_id} {codes(runtime)[award_id]}\n"
    assert list(path.parent.iterdir()) == [path]  # the retry replaced the same file
    with write_session(runtime.sessions) as session:
        assert code_for(session, award_id) == codes(runtime)[award_id]
