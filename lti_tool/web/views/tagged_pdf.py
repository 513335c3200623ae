"""A PDF a screen reader can read: fpdf2's document with its text tagged (headings and paragraphs in
a structure tree, in reading order), the language set and the title shown instead of the file name.

fpdf2 builds the structure tree itself (``/StructTreeRoot``, ``/MarkInfo``) but its public API tags
only images (``alt_text``) and outlines: as of fpdf2 2.8.9 there is no public call that marks text
as a heading or a paragraph (its own ``_marked_sequence`` is private too, and fixed to ``/Figure``).
:meth:`TaggedPDF.tagged` therefore marks text the way fpdf2 marks its images, through two of its
internal methods (``_add_marked_content``, ``_out``) and ``struct_builder.next_mcid_for_page``,
here and nowhere else. ``tests/web/views/test_tagged_pdf.py`` checks the result in the PDF's bytes
(and, with poppler, as a reader sees it), so an fpdf2 upgrade that changes them fails a test instead
of silently untagging the certificates. Replace this with fpdf2's API when it gains one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fpdf import FPDF, ViewerPreferences

TAGS = ("H1", "H2", "P", "Caption")
"""The structure types the certificate uses (PDF 1.7, 14.8.4 standard structure types)."""


class TaggedPDF(FPDF):
    def __init__(self, *args: Any, lang: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_lang(lang)
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)

    @contextmanager
    def tagged(self, tag: str) -> Iterator[None]:
        """Everything drawn inside is one structure element of type ``tag``, on the current page."""
        if tag not in TAGS:
            raise ValueError(f"unsupported structure type {tag!r}")
        page = self.page
        mcid = self.struct_builder.next_mcid_for_page(page)
        self._add_marked_content(struct_type=f"/{tag}", mcid=mcid)
        self._out(f"/{tag} <</MCID {mcid}>> BDC")
        yield
        if self.page != page:
            raise ValueError("a tagged element cannot run onto another page")
        self._out("EMC")
