"""Reading a rendered PDF as a reader would: its text (pdftotext) and its QR codes (pdftoppm, then
zxing-cpp decoding the page image)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import require


def pdf_text(data: bytes, folder: Path) -> str:
    require("pdf", shutil.which("pdftotext") is not None, "poppler-utils (pdftotext) is not installed")
    path = folder / "document.pdf"
    path.write_bytes(data)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())


def qr_codes(data: bytes, folder: Path) -> list[str]:
    """The texts of the QR codes on the first page, as a phone's camera would read them."""
    require("pdf", shutil.which("pdftoppm") is not None, "poppler-utils (pdftoppm) is not installed")
    import zxingcpp
    from PIL import Image

    path = folder / "document.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", str(path), str(folder / "page")],
                   check=True)
    [page] = sorted(folder.glob("page*.png"))
    return [code.text for code in zxingcpp.read_barcodes(Image.open(page))]
