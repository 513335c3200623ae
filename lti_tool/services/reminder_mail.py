"""The renewal reminder e-mail: what is earned, what is still needed, the deadline, a link to the
learner's page and a one-click unsubscribe, in plain text and HTML.

The unsubscribe link opens a page with one button (a link scanner fetching the URL does not
unsubscribe anyone); mail clients that support RFC 8058 unsubscribe in one click through the
``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from html import escape


@dataclass(frozen=True)
class ReminderContent:
    learner_name: str | None
    title: str
    body: str
    unit: str
    earned: str
    required: str
    deadline: str
    days_left: int
    needs: tuple[str, ...]
    page_url: str
    unsubscribe_url: str


def mailbox(value: str) -> str | None:
    """``value`` if it is one plain address (``local@domain``), else ``None``.

    The address comes from the LMS, so it is the learner's own text: a CR/LF would be refused by
    the e-mail library at send time (and must never become a header), and a list such as
    ``a@x.org, b@y.org`` would send one learner's reminder to someone else.
    """
    try:
        address = Address(addr_spec=value)
    except (ValueError, HeaderParseError):
        return None
    if not address.username or not address.domain or address.addr_spec != value:
        return None
    return value


def subject(c: ReminderContent) -> str:
    return f"{c.title}: {c.days_left} day(s) left in your renewal cycle ({c.earned} of {c.required} {c.unit})"


def text_body(c: ReminderContent) -> str:
    lines = [f"Hello {c.learner_name}," if c.learner_name else "Hello,", "",
             f"Your {c.title} renewal cycle ({c.body}) ends on {c.deadline}, in {c.days_left} day(s).",
             f"Earned in this cycle so far: {c.earned} of {c.required} {c.unit}.", "", "Still needed:"]
    lines += [f"  - {need}" for need in c.needs]
    lines += ["", f"Your credit and renewal progress: {c.page_url}", "",
              "You get this e-mail because you hold this credential and your renewal is not complete.",
              f"Stop renewal reminders: {c.unsubscribe_url}", ""]
    return "\n".join(lines)


def html_body(c: ReminderContent) -> str:
    needs = "".join(f"<li>{escape(need)}</li>" for need in c.needs)
    greeting = f"Hello {escape(c.learner_name)}," if c.learner_name else "Hello,"
    return (
        "<!doctype html><html lang=\"en\"><body style=\"font-family: sans-serif\">"
        f"<p>{greeting}</p>"
        f"<p>Your <strong>{escape(c.title)}</strong> renewal cycle ({escape(c.body)}) ends on "
        f"<strong>{escape(c.deadline)}</strong>, in {c.days_left} day(s).</p>"
        f"<p>Earned in this cycle so far: {escape(c.earned)} of {escape(c.required)} {escape(c.unit)}.</p>"
        f"<p>Still needed:</p><ul>{needs}</ul>"
        f"<p><a href=\"{escape(c.page_url)}\">Your credit and renewal progress</a></p>"
        "<p style=\"font-size: small\">You get this e-mail because you hold this credential and your "
        f"renewal is not complete. <a href=\"{escape(c.unsubscribe_url)}\">Stop renewal reminders</a></p>"
        "</body></html>"
    )


def compose(*, key: str, sender: str, to: str, subject: str, text: str, html: str, unsubscribe_url: str,
            domain: str = "lti-tool") -> EmailMessage:
    """The message; its ``Message-ID`` is the reminder's idempotency key, the same on every retry."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{key}@{domain}>"
    msg["Date"] = formatdate(usegmt=True)
    msg["X-Idempotency-Key"] = key
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
