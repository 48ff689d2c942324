"""The e-mail channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest
from conftest import PASSWORD, Inbox, free_port
from PIL import Image, ImageColor
from sqlalchemy import select

from notifications.charts import PALETTE
from notifications.console import ConsoleChannel
from notifications.email import EmailChannel
from notifications.message import DeliveryError, Message
from rules.calendar import WITA
from scheduler.config import load_config
from scheduler.iki.apply import apply_import
from scheduler.iki.document import parse_iki
from scheduler.service.tick import Service
from scheduler.store import models
from scheduler.store.db import Database

SEED = resources.files("scheduler").joinpath("data/iki_2025_kesbangpol_kukar.txt")
SECRETARY, STAFF = "197105152000121003", "197110122007012026"  # SUTRISNO, YANTI HEIDA YANI
MARCH_3 = datetime(2025, 3, 3, 9, tzinfo=WITA)
PALETTE_RGB = {name: ImageColor.getrgb(colour) for name, colour in PALETTE.items()}


def test_a_message_goes_out_as_multipart_text_and_html(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    channel = EmailChannel("127.0.0.1", port, "none", "tenggat@kesbangpol.go.id", "admin", PASSWORD)
    message = Message(
        "A (1)", "teks <polos>", ("k1",), "Subjek", "<p>&lt;html&gt;</p>", "a@x.go.id"
    )
    with channel:
        receipt = channel.send(message)
    (mail,) = handler.messages
    assert handler.logins == ["admin"]
    assert (mail["To"], mail["Subject"], mail["Message-ID"]) == ("a@x.go.id", "Subjek", receipt)
    assert mail["Date"]
    assert mail.get_body(("plain",)).get_content().strip() == "teks <polos>"  # type: ignore[union-attr]
    assert "&lt;html&gt;" in mail.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_a_refused_address_is_permanent_and_a_dead_server_transient(
    inbox: tuple[Inbox, int],
) -> None:
    _, port = inbox
    channel = EmailChannel("127.0.0.1", port, "none", "t@x.go.id", "admin", PASSWORD)
    with channel, pytest.raises(DeliveryError) as refused:
        channel.send(Message("B", "t", ("k",), address="refused@kesbangpol.go.id"))
    assert refused.value.permanent
    with pytest.raises(DeliveryError) as down:
        EmailChannel("127.0.0.1", free_port(), "none", "t@x.go.id").__enter__()
    assert not down.value.permanent


def service_with_smtp(tmp_path: Path, port: int) -> Service:
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    environ = {
        "TENGGAT_DATABASE_URL": url,
        "TENGGAT_SMTP_HOST": "127.0.0.1",
        "TENGGAT_SMTP_PORT": str(port),
        "TENGGAT_SMTP_SECURITY": "none",
        "TENGGAT_SMTP_USERNAME": "admin",
        "TENGGAT_SMTP_PASSWORD": PASSWORD,
        "TENGGAT_SMTP_SENDER": "tenggat@kesbangpol.go.id",
    }
    config = load_config(None, environ=environ)
    database = Database(url)
    database.migrate()
    with database.write() as session:
        apply_import(session, parse_iki(SEED.read_text(encoding="utf-8"), config.catalog), MARCH_3)
        for key, address in ((SECRETARY, "sekretaris@kesbangpol.go.id"),
                             (STAFF, "refused@kesbangpol.go.id")):  # fmt: skip
            employee = session.scalars(select(models.Employee).filter_by(key=key)).one()
            employee.email = address
    service = Service(config, lambda: MARCH_3)
    service.channels["console"] = ConsoleChannel(io.StringIO())
    return service


def test_the_service_mails_who_has_an_address_once_and_prints_the_rest(
    tmp_path: Path, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    handler, port = inbox
    service = service_with_smtp(tmp_path, port)
    service.tick()
    service.tick()  # again: nothing new
    # the Secretary's message, and Monday's digest; the staff address is refused
    mail, digest = sorted(handler.messages, key=lambda m: any(m.iter_attachments()))
    assert mail["To"] == digest["To"] == "sekretaris@kesbangpol.go.id"
    (attachment,) = digest.iter_attachments()  # type: ignore[attr-defined]
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_filename().endswith(".csv")
    assert b"YANTI HEIDA YANI" in attachment.get_payload(decode=True)
    # the charts as pictures beside the HTML (multipart/related), each shown by its cid
    html = digest.get_body(("html",))
    assert html is not None and html.get_content_type() == "text/html"
    related = next(p for p in digest.walk() if p.get_content_type() == "multipart/related")
    pictures = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    assert len(pictures) == 2
    page = html.get_content()
    for picture in pictures:
        cid = picture["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in page and picture.get_content_disposition() == "inline"
        image = Image.open(io.BytesIO(picture.get_payload(decode=True))).convert("RGB")
        assert image.format is None or image.format == "PNG"
        assert 800 <= image.width <= 1200 and 300 <= image.height <= 1600, image.size
        colours = {colour for _, colour in image.getcolors(1 << 20) or []}
        assert PALETTE_RGB["short"] in colours  # nothing was on time yet: red, and said
    alts = re.findall(r'<img src="cid:[^"]+" alt="([^"]+)"', page)
    assert len(alts) == 2 and "tidak tepat waktu" in alts[0] and "minggu ke-" in alts[1]
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Kewajiban bawahan Bapak yang belum disampaikan, per kewajiban:" in body
    with service.db.read() as session:
        states = dict(
            session.execute(
                select(models.Outbox.recipient, models.Outbox.state).where(
                    models.Outbox.recipient.in_([SECRETARY, STAFF])
                )
            ).all()
        )
        outcomes = set(session.scalars(select(models.Delivery.outcome)))
    assert states == {SECRETARY: "sent", STAFF: "dead"}  # refused at once: a dead letter
    assert outcomes == {"sent", "permanent"}
    console = service.channels["console"]
    assert isinstance(console, ConsoleChannel) and isinstance(console.stream, io.StringIO)
    printed = console.stream.getvalue()
    assert "ALEXANDER" in printed  # no address: the console still says it
    assert PASSWORD not in printed and PASSWORD not in caplog.text


def test_send_test_reaches_the_server(tmp_path: Path, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TENGGAT_")} | {
        "TENGGAT_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "TENGGAT_SMTP_HOST": "127.0.0.1",
        "TENGGAT_SMTP_PORT": str(port),
        "TENGGAT_SMTP_SECURITY": "none",
        "TENGGAT_SMTP_USERNAME": "admin",
        "TENGGAT_SMTP_PASSWORD": PASSWORD,
    }
    tenggat = str(Path(sys.executable).parent / "tenggat")
    command = [tenggat, "send-test", "--channel", "email", "--to", "uji@kesbangpol.go.id"]
    done = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (mail,) = handler.messages
    assert mail["To"] == "uji@kesbangpol.go.id"
    assert mail["Message-ID"] in done.stdout
    refused = subprocess.run(
        [*command[:-1], "refused@kesbangpol.go.id"], env=environ, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1 and "tidak terkirim (permanen)" in refused.stderr
    assert PASSWORD not in done.stdout + done.stderr + refused.stdout + refused.stderr
