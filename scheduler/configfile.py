"""Where the configuration is, and the one setting wanted before it is loaded.

`scheduler.config` validates the whole file with pydantic and reads the rule catalog, which
takes a tenth of a second and more; the language `tenggat --help` speaks is wanted before
any of that, so it is read here with the standard library alone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

ENV_PREFIX = "TENGGAT_"


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """``--config`` first, then ``TENGGAT_CONFIG``, then ./config.toml if present.  A path
    given that is no file is returned as it is: the loader reports it."""
    chosen = explicit or environ.get("TENGGAT_CONFIG")
    if chosen:
        return Path(chosen)
    default = Path("config.toml")
    return default if default.is_file() else None


def language(explicit: str | None, environ: Mapping[str, str]) -> str | None:
    """``[service] language`` (or ``TENGGAT_SERVICE_LANGUAGE``) as written, unvalidated;
    None where none is set or the file cannot be read (the command that loads it says why)."""
    chosen = environ.get(f"{ENV_PREFIX}SERVICE_LANGUAGE")
    if chosen is not None:
        return chosen
    path = config_path(explicit, environ)
    if path is None:
        return None
    try:
        service = tomllib.loads(path.read_text(encoding="utf-8-sig")).get("service", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    value = service.get("language") if isinstance(service, dict) else None
    return value if isinstance(value, str) else None
