"""The SMTP destination: one e-mail per batch, the exporter's body and files as attachments.

The batch key is the ``Message-ID`` (``<key@lti-tool>``), so a receiver can drop a message it got
twice. A 4xx reply or a dropped connection is retried; a 5xx reply (refused sender or recipient,
refused message) is permanent and sends the batch to the dead letter.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from lti_tool.exports.base import DeliveryError, Destination, Export

OPTIONS = {"host", "port", "from", "to", "cc", "starttls", "ssl", "username", "password_env",
           "password_file", "timeout_seconds", "domain"}


def message_id(export: Export, domain: str) -> str:
    return f"<{export.key}@{domain}>"


class SmtpDestination(Destination):
    """E-mail with attachments. Options: ``host``, ``port`` (25), ``from``, ``to`` (a list), ``cc``,
    ``starttls`` / ``ssl`` (false), ``username``, ``password_env`` or ``password_file``,
    ``timeout_seconds`` (30), ``domain`` of the Message-ID (``lti-tool``)."""

    identifier = "smtp"
    verbose_name = "E-mail (SMTP)"
    known_options = frozenset(OPTIONS)
    required_options = ("host", "from", "to")


    def recipients(self) -> list[str]:
        to = self.options["to"]
        cc = self.options.get("cc", [])
        return ([to] if isinstance(to, str) else list(to)) + ([cc] if isinstance(cc, str) else list(cc))

    def compose(self, export: Export) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.options["from"]
        to = self.options["to"]
        msg["To"] = to if isinstance(to, str) else ", ".join(to)
        if self.options.get("cc"):
            cc = self.options["cc"]
            msg["Cc"] = cc if isinstance(cc, str) else ", ".join(cc)
        msg["Subject"] = export.subject
        msg["Message-ID"] = message_id(export, self.options.get("domain", "lti-tool"))
        msg["Date"] = formatdate(usegmt=True)
        msg["X-Idempotency-Key"] = export.key
        msg.set_content(export.body)
        for file in export.files:
            maintype, _, subtype = file.media_type.partition("/")
            msg.add_attachment(file.content, maintype=maintype, subtype=subtype, filename=file.filename)
        return msg

    def deliver(self, export: Export) -> dict[str, Any]:
        msg = self.compose(export)
        refused = self.send(msg, self.recipients())
        # Accepted for some recipients: sending again would double it for them, so it counts as
        # delivered and the refused ones are kept in the receipt.
        return {"message_id": msg["Message-ID"], "recipients": self.recipients(),
                "refused": refused, "attachments": [f.filename for f in export.files], "path": None}

    def send(self, msg: EmailMessage, recipients: list[str]) -> dict[str, list[Any]]:
        """Send one composed message through this server; the recipients it refused (code, text).
        Raises :class:`DeliveryError` (permanent for a 5xx) when it was not accepted at all."""
        host, port = self.options["host"], int(self.options.get("port", 25))
        timeout = float(self.options.get("timeout_seconds", 30))
        try:
            if self.options.get("ssl"):
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if self.options.get("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                password = self.secret("password")
                if self.options.get("username") and password is not None:
                    smtp.login(self.options["username"], password)
                refused = smtp.send_message(msg, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"recipients refused: {exc.recipients}",
                                permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(f"SMTP {exc.smtp_code} {text}", permanent=exc.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}") from None
        return {k: [v[0], str(v[1])] for k, v in refused.items()}
