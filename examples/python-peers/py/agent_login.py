"""The Python AGENT SDK (lime-agents-sdk 1.0) as a peer: approves a login
request a site created (`agent.login(request_id)`, README Scenario A), then
reads its profile and, when asked, an MCP access token.

stdout: {"event": "approved", …ApprovalResult}, {"event": "profile", …},
        {"event": "mcp-token", "access_token": …} (only with a domain)
Usage: agent_login.py <request_id> [mcp_domain]
env: LIME_API_BASE, LIME_AGENT_TOKEN
"""

from __future__ import annotations

import sys
from dataclasses import asdict

from peer import emit, run, use_reference_sdks

use_reference_sdks()

from lime_agents import LimeAgent  # noqa: E402


async def main() -> None:
    request_id = sys.argv[1]
    mcp_domain = sys.argv[2] if len(sys.argv) > 2 else None
    async with LimeAgent() as agent:  # LIME_AGENT_TOKEN, LIME_API_BASE
        result = await agent.login(request_id)
        emit("approved", **asdict(result))
        profile = await agent.get_profile()
        emit("profile", **asdict(profile))
        if mcp_domain:
            token = await agent.get_mcp_access_token(mcp_domain)
            emit("mcp-token", **asdict(token))


if __name__ == "__main__":
    run(main)
