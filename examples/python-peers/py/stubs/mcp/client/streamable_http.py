"""Stub `mcp.client.streamable_http`: importable, raises when called."""

from __future__ import annotations

from typing import Any


def streamable_http_client(*_args: Any, **_kwargs: Any) -> Any:
    raise NotImplementedError(
        "streamable_http_client comes from the `mcp` stub in examples/python-peers/py/stubs",
    )
