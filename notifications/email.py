"""The e-mail channel: SMTP with STARTTLS or SSL and login, one connection per batch,
multipart plain text + HTML (with its pictures, by Content-ID), proper Date and Message-ID
headers."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import cast

from notifications.message import Closing, DeliveryError, Message, OneByOne


class EmailChannel(Closing, OneByOne):
    """Opened once for a batch (``with channel:``), so fifty messages cost one login."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.sender, self.username, self._password = sender, username, password
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect and log in: a refused login is permanent, an unreachable server is not."""
        try:
            if self.security == "ssl":
                context = ssl.create_default_context()
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused ({exc.smtp_code})", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}", permanent=False) from None
        self._smtp = smtp

    def close(self) -> None:
        """Say goodbye to the server, if it was reached."""
        if self._smtp is not None:
            # the messages are settled already; a failed goodbye changes nothing
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None

    def send(self, message: Message) -> str:
        """Send one message; the receipt is its Message-ID."""
        if self._smtp is None:
            raise RuntimeError("open the channel first: with channel: ...")
        if not message.address:
            raise DeliveryError(f"no e-mail address for {message.recipient}", permanent=True)
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject or "Tenggat"
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
            # Beside the HTML in a multipart/related: what Gmail and Outlook show, where
            # they show neither inline SVG nor data: URIs.
            html = mail.get_body(("html",))  # the part just added: never None
            for cid, content in message.images:
                cast(EmailMessage, html).add_related(
                    content, "image", "png", cid=f"<{cid}>", disposition="inline",
                    filename=f"{cid.partition('@')[0]}.png",
                )  # fmt: skip
        for filename, content, mime in message.attachments:
            maintype, _, subtype = mime.partition("/")
            mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
        try:
            self._smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"address refused: {message.address}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(f"SMTP {exc.smtp_code}", permanent=permanent) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP: {exc}", permanent=False) from None
        return str(mail["Message-ID"])
