"""The Python MCP VERIFIER (lime-mcp-server-sdk 0.4) as a peer: verifies
bearer tokens the way an MCP resource server does (README Quick start).

stdin: one JSON object {name: token}
stdout: {"event": "warmup", "fetch_count": …}, then one
        {"event": "result", "name", "is_valid", "error", "agent_id", "claims"} per token
env: LIME_BASE_URL (the Core's origin, no /api/v1)
"""

from __future__ import annotations

import json
import sys

from peer import emit, run, use_reference_sdks

use_reference_sdks()

from lime_mcp_server import TokenVerifier  # noqa: E402


async def main() -> None:
    tokens: dict[str, str] = json.loads(sys.stdin.read())
    with TokenVerifier() as verifier:
        verifier.warmup(raise_on_failure=True)
        emit("warmup", fetch_count=verifier.cache.fetch_count)
        for name, token in tokens.items():
            result = await verifier.verify_async(token)
            emit(
                "result",
                name=name,
                is_valid=result.is_valid,
                error=result.error,
                agent_id=result.agent_id,
                claims=result.claims,
            )


if __name__ == "__main__":
    run(main)
