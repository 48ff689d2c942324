"""Benchmark the dispatcher: N messages from the outbox to a fake Telegram Bot API.

    python bench/dispatch.py [--messages 2000] [--limit 30] [--repeat 1]
                             [--skip-limited] [--skip-unlimited]

Fills a SQLite outbox in a temporary directory with one overdue SKP notice for each of N
linked employees, then times the real path (claim, compose, render, python-telegram-bot
over HTTP to 127.0.0.1, record) twice, the fake running in a process of its own:

1. against a fake that enforces ``--limit`` messages a second overall (a 429 beyond), with
   the shipped pacing (``[telegram] rate = 29``): achieved msg/s (target >= 28.5) and the
   429s received (target 0);
2. against an unlimited fake, with pacing lifted (``rate`` set far above what the machine
   can do): msg/s (target >= 500), i.e. what the dispatcher itself costs.

Each run is a fresh outbox and a fresh fake; the first run of a process also pays one-off
imports (PTB, holidays).  ``--repeat N`` runs each mode N times and adds min / median.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_telegram import TOKEN, serve
from sqlalchemy import func, insert, select

from rules.calendar import WITA
from scheduler.config import load_config
from scheduler.service.tick import Service
from scheduler.store import models, outbox

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)  # a Monday morning, inside the window


def fill(url: str, messages: int) -> None:
    service = Service(load_config(None, environ={"TENGGAT_DATABASE_URL": url}), lambda: NOW)
    service.db.migrate()
    keys = [f"1990{n:014d}" for n in range(messages)]
    with service.db.write() as session:
        session.execute(
            insert(models.Employee),
            [
                {"key": k, "name": f"PEGAWAI {n}", "telegram_chat_id": str(10_000 + n),
                 "updated_at": NOW}
                for n, k in enumerate(keys)
            ],
        )  # fmt: skip
        rows: list[dict[str, object]] = [
            {"key": f"{k}|SKP|2025|H+1|{k}", "recipient": k, "role": "employee",
             "kind": "overdue", "employee": k, "rule_code": "SKP", "period": "2025",
             "step": "H+1", "due": NOW.date(), "days_late": 3}
            for k in keys
        ]  # fmt: skip
        outbox.add(session, rows, NOW)
    service.db.engine.dispose()


@contextlib.contextmanager
def fake_server(limit: float | None) -> Iterator[str]:
    """The fake Bot API in a process of its own (as Telegram is): its base URL."""
    receiving, sending = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=serve, args=(limit, sending), daemon=True)
    process.start()
    try:
        yield receiving.recv()
    finally:
        process.kill()
        process.join()


def stats(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base_url}{TOKEN}/getStats", data=b"") as answer:
        result: dict[str, int] = json.load(answer)["result"]
    return result


def run(messages: int, limit: float | None, rate: float) -> tuple[float, int, int]:
    """Seconds to dispatch everything, 429s received, messages the fake accepted."""
    with tempfile.TemporaryDirectory() as folder, fake_server(limit) as base_url:
        url = f"sqlite:///{Path(folder) / 'dispatch.db'}"
        fill(url, messages)
        environ = {
            "TENGGAT_DATABASE_URL": url,
            "TENGGAT_TELEGRAM_TOKEN": TOKEN,
            "TENGGAT_TELEGRAM_API_URL": base_url,
            "TENGGAT_TELEGRAM_RATE": str(rate),
        }
        service = Service(load_config(None, environ=environ), lambda: NOW)
        started = time.perf_counter()
        service.dispatch(NOW)
        elapsed = time.perf_counter() - started
        with service.db.read() as session:
            sent = session.scalar(
                select(func.count()).select_from(models.Outbox).where(models.Outbox.state == "sent")
            )
        service.db.engine.dispose()
        server = stats(base_url)
        if sent != messages or server["sent"] != messages:
            raise SystemExit(f"only {sent} of {messages} sent ({server['sent']} at the server)")
        return elapsed, server["refused_429"], server["sent"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--limit", type=float, default=30.0, help="the fake's msg/s limit")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mode")
    parser.add_argument("--skip-limited", action="store_true")
    parser.add_argument("--skip-unlimited", action="store_true")
    args = parser.parse_args()
    limited: list[float] = []
    unlimited: list[float] = []
    for _ in range(args.repeat):
        if not args.skip_limited:
            seconds, refused, accepted = run(args.messages, args.limit, rate=29.0)
            limited.append(accepted / seconds)
            print(
                f"limited fake ({args.limit:g} msg/s): {accepted} messages in {seconds:.1f} s = "
                f"{accepted / seconds:.1f} msg/s (target >= 28.5), 429s received: {refused} "
                "(target 0)",
                flush=True,
            )
        if not args.skip_unlimited:
            seconds, refused, accepted = run(args.messages, None, rate=1_000_000.0)
            unlimited.append(accepted / seconds)
            print(
                f"unlimited fake: {accepted} messages in {seconds:.2f} s = "
                f"{accepted / seconds:.0f} msg/s (target >= 500), 429s: {refused}",
                flush=True,
            )
    for name, rates in (("limited", limited), ("unlimited", unlimited)):
        if len(rates) > 1:
            print(
                f"{name}: min {min(rates):.1f} median {statistics.median(rates):.1f} "
                f"max {max(rates):.1f} msg/s over {len(rates)} runs"
            )


if __name__ == "__main__":
    main()
