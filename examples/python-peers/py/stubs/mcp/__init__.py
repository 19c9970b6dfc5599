"""A stand-in for the `mcp` package, just enough for `import lime_agents`.

lime-agents-sdk imports the MCP Python SDK at module level, but the login
path (`LimeAgent.login`) never touches it, and Debian does not package it.
The drivers append this folder to the END of `sys.path`, so a real `mcp`
installed on the machine always wins. Anything here that would be used by
an MCP call raises at once instead of pretending to work.
"""

from __future__ import annotations

from typing import Any

STUB = True


class _Unavailable:
    """Base of every stub class: importable, never usable."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} comes from the `mcp` stub in examples/python-peers/py/stubs: "
            "install the real `mcp` package to use lime-agents-sdk's MCP client",
        )


class ClientSession(_Unavailable):
    pass
