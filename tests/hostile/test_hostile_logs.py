"""Log calls the redacting filter must survive, kept as data: a record whose arguments do
not fit its format still reaches the log, scrubbed, and never raises into the caller.  Each
runs in a real process with the service's own log set-up (`scheduler.logs.configure`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

SECRET = "123456:very-secret-token"

# The arguments of a ``log.warning(...)`` that logging cannot merge, as source; each carries
# the secret somewhere.  ``Unprintable`` is an object whose str() and repr() raise.
BAD_CALLS = [
    '"a %s %s", SECRET',
    '"a %d", SECRET',
    'f"token {SECRET} %s"',
    '"%(missing)s", {"token": SECRET}',
    '"%s", Unprintable(), SECRET',
    "Unprintable(), SECRET",
]

PROGRAM = """
import logging
from scheduler.logs import REDACT, configure

SECRET = {secret!r}

class Unprintable:
    def __str__(self):
        raise RuntimeError("no text")
    __repr__ = __str__

configure("warning")
REDACT.hide(SECRET)
logging.getLogger("tenggat").warning({call})
print("the caller went on")
"""


@pytest.mark.parametrize("call", BAD_CALLS)
def test_a_badly_formed_log_call_is_logged_scrubbed_and_never_raises(call: str) -> None:
    program = PROGRAM.format(secret=SECRET, call=call)
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "the caller went on", done.stderr
    assert done.stderr.strip(), "the record was lost"
    assert "Traceback" not in done.stderr and "Logging error" not in done.stderr, done.stderr
    assert SECRET not in done.stderr and "very-secret" not in done.stderr, done.stderr
