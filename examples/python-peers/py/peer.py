"""Shared plumbing of the Python peer drivers (not a LIME SDK).

- `use_reference_sdks()` puts the published Python SDKs on `sys.path`
  straight from the read-only reference folder (never copied, never edited)
  and appends the `mcp` stub as a last resort.
- `emit()` writes one JSON object per stdout line: the test reads them.
- `run()` runs an async main and turns any exception into an `error` line
  and exit status 1, so the test shows what went wrong on the Python side.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SDK_FOLDERS = ("lime-site-sdk", "lime-agents-sdk", "lime-mcp-server-sdk")


def reference_sdks_dir() -> Path:
    """`LIME_PYTHON_SDKS_DIR`, else `<repo>/../shared/reference/python-sdks`."""
    override = os.environ.get("LIME_PYTHON_SDKS_DIR")
    if override:
        return Path(override)
    return REPO.parent / "shared" / "reference" / "python-sdks"


def use_reference_sdks() -> None:
    root = reference_sdks_dir()
    for folder in SDK_FOLDERS:
        src = root / folder / "src"
        if not src.is_dir():
            raise SystemExit(f"python-peers: no Python SDK sources at {src}")
        sys.path.insert(0, str(src))
    # Last on the path: a real `mcp` package, when installed, wins.
    sys.path.append(str(HERE / "stubs"))


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def tamper_payload(token: str, **changes: Any) -> str:
    """The same JWT with claims changed and the original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def run(main: Callable[[], Awaitable[None]]) -> None:
    try:
        asyncio.run(main())
    except BaseException as exc:  # noqa: BLE001 - reported to the test, then exit 1
        if isinstance(exc, SystemExit) and exc.code in (0, None):
            raise
        emit(
            "error",
            type=type(exc).__name__,
            message=str(exc),
            code=getattr(exc, "code", None),
            http_status=getattr(exc, "http_status", None),
            traceback=traceback.format_exc(),
        )
        sys.exit(1)
