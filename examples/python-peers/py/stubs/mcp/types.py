"""Stub `mcp.types`: the names lime-agents-sdk imports, none of them usable."""

from __future__ import annotations

from mcp import _Unavailable


class CallToolResult(_Unavailable):
    pass


class GetPromptResult(_Unavailable):
    pass


class Prompt(_Unavailable):
    pass


class ReadResourceResult(_Unavailable):
    pass


class Resource(_Unavailable):
    pass


class ResourceTemplate(_Unavailable):
    pass


class ServerCapabilities(_Unavailable):
    pass


class Tool(_Unavailable):
    pass
