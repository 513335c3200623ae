"""What a web worker holds once it has built the app: the libraries of PDFs (fpdf2, about 20 MB a
process) and of SFTP uploads (asyncssh, about 6 MB) are imported when first used, so a worker that
only takes events stays within the ingest benchmark's memory target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LAZY = ("fpdf", "asyncssh", "PIL")

PROGRAM = """
import json, sys
from lti_tool.settings import load_settings
from lti_tool.runtime import build_runtime
from lti_tool.web.app import create_app

create_app(build_runtime(load_settings(instance_dir=sys.argv[1], database_url="")))
built = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[2:]))
from lti_tool.exports.documents import certificate_pdf
from lti_tool.web.views.certificates import render_certificate
after_import = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[2:]))
print(json.dumps({"built": built, "after_import": after_import}))
"""


def test_building_the_app_imports_neither_the_pdf_nor_the_sftp_library(tmp_path: Path) -> None:
    answer = subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path / "instance"), *LAZY],
                            cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    held = json.loads(answer.stdout.strip().splitlines()[-1])
    assert held == {"built": [], "after_import": []}, held
    # Rendering works with the import where it is used: tests/web/views/test_tagged_pdf.py,
    # tests/exports (certificates, statements, transcripts) and the SFTP destination's tests.

