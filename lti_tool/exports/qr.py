"""A URL as a QR code drawn on a PDF page (segno: pure Python, maintained; PNG embedded by fpdf2)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import segno

if TYPE_CHECKING:
    from fpdf import FPDF


def draw_qr(pdf: FPDF, url: str, size: float = 32) -> None:
    """The code in the page's top right corner; the cursor stays where it was."""
    image = io.BytesIO()
    segno.make(url, error="m").save(image, kind="png", scale=8, border=2)
    image.seek(0)
    x, y = pdf.get_x(), pdf.get_y()
    pdf.image(image, x=pdf.w - pdf.r_margin - size, y=pdf.t_margin, w=size, h=size)
    pdf.set_xy(x, y)


def verify_url(public_base: str | None, code: str | None) -> str | None:
    """Where anyone checks a certificate: ``<public_base>/verify/<code>``."""
    return f"{public_base.rstrip('/')}/verify/{code}" if public_base and code else None
