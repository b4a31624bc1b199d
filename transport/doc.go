// Package transport serves an MCP server to clients over stdio and, on one
// HTTP listener, over streamable HTTP (/mcp) and legacy HTTP+SSE (/sse,
// /message). It depends only on mcp-go's server, not on the tools: any MCP
// server could use it. Each transport is one file. Transports own no process
// state; they only move JSON-RPC messages between clients and the server.
// HTTPConfig.UI, if set, serves every other path of the listener (the
// dashboard) behind the same guard; only its page and assets (GET / and
// GET /ui/...) are served without the token, since they hold no data.
//
// # Limits
//
// A request is at most DefaultMaxBodyBytes (4 MiB) unless configured: an
// HTTP body (413 beyond), or one stdio line, which beyond the limit is
// skipped as it streams in and answered with JSON-RPC error -32600 carrying
// the request's id when it is among the line's first bytes, else null.
//
// # Protocol versions
//
// Both transports offer the revisions with the initialize handshake and
// sessions, 2025-11-25 down to 2024-11-05, not the stateless 2026-07-28,
// which mcp-go v1.2.1 serves only in part (no logging/setLevel or resource
// subscriptions). initialize asking for 2026-07-28 gets 2025-11-25. A
// request of the stateless protocol (its version in _meta, no initialize:
// server/discover, or a tools/call) is refused with JSON-RPC error -32022
// whose data lists the versions offered, on streamable HTTP with status 400
// (mcp-go does this) and on stdio likewise (stdio.go does it: mcp-go's
// stdio server would serve the request, and mcp-go's client, which ignores
// the versions server/discover lists, would stay on 2026-07-28). Clients
// that prefer 2026-07-28 (mcp-go's, the official Go SDK v1.8.0) then fall
// back to initialize with 2025-11-25. SSE sessions always begin with
// initialize.
//
// # Concurrency contract
//
// Serve functions block until their input ends or their context is done,
// and return only after every request they started has finished. On stdio,
// every write to the client goes through one mutex, a whole line per write.
package transport
