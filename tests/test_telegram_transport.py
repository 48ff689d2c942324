"""The Telegram channel's HTTP transport (aiohttp under python-telegram-bot): failures of the
network become transient errors that never show the token, and proxies come from the
environment as every HTTP client's do."""

from __future__ import annotations

import pytest
from conftest import free_port
from fake_telegram import TOKEN, FakeBotAPI

from notifications.message import DeliveryError, Message
from notifications.telegram import TelegramChannel, _proxy


def test_an_unreachable_bot_api_is_a_transient_error_without_the_token() -> None:
    channel = TelegramChannel(TOKEN, f"http://127.0.0.1:{free_port()}/bot")
    with pytest.raises(DeliveryError) as failure, channel:
        pass
    assert not failure.value.permanent
    assert "NetworkError" in str(failure.value) or "TimedOut" in str(failure.value)
    assert TOKEN not in str(failure.value)


def test_a_server_that_stops_answering_times_out_and_the_rest_still_go() -> None:
    with FakeBotAPI(hang_after=2) as api:
        with TelegramChannel(TOKEN, api.base_url, per_chat=0.0, timeout=0.5) as channel:
            results = channel.deliver(
                [Message(f"P{n}", "halo", (f"k{n}",), address=str(n)) for n in range(4)]
            )
        assert sum(isinstance(r, str) for r in results) == 2
        errors = [r for r in results if isinstance(r, DeliveryError)]
        assert len(errors) == 2
        assert all(not e.permanent and TOKEN not in str(e) for e in errors)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"HTTPS_PROXY": "http://proxy.example:3128"}, "http://proxy.example:3128"),
        ({"ALL_PROXY": "http://all.example:8080"}, "http://all.example:8080"),
        (
            {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "api.telegram.org"},
            None,
        ),
    ],
)
def test_the_proxy_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: str | None
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert _proxy("https://api.telegram.org/bot") == expected
