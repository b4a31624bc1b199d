package transport

import "github.com/mark3labs/mcp-go/mcp"

// offeredVersions are the MCP revisions both transports offer: those with
// the initialize handshake and sessions (2025-11-25 down to 2024-11-05),
// newest first. The stateless revision 2026-07-28 is left out because
// mcp-go v1.2.1 serves it only in part: logging/setLevel and resource
// subscriptions are gone there, and over HTTP nothing unsolicited reaches
// its clients. Clients that ask for it are told these versions and fall
// back to initialize.
var offeredVersions = mcp.LegacyProtocolVersions()
