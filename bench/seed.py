"""What the synthetic agencies of the benchmarks share with the seed IKI (58 people): the
codes its heads and analysts carry, drawn the same way by every benchmark so that their
rosters, and so their figures, stay comparable."""

from __future__ import annotations

import random

HEAD_CODES = ("SKP", "LHKPN", "EPANTAU", "PK", "MR", "SERAPAN")
STAFF_CODES = ("SKP", "SPT", "PK")


def head_codes(rng: random.Random) -> list[str]:
    """One head's codes: `HEAD_CODES`, most of them SPT (five in eight), a few SKM_RTL, RKBM
    and SHS or LKJP and SPP (one in eight each), as in the seed."""
    codes = list(HEAD_CODES)
    if rng.random() < 5 / 8:  # three of the eight heads in the seed carry no SPT
        codes.append("SPT")
    extra = rng.random()
    if extra < 1 / 8:
        codes += ["SKM_RTL", "RKBM", "SHS"]
    elif extra < 2 / 8:
        codes += ["LKJP", "SPP"]
    return codes
