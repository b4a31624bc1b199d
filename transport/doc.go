// Package transport connects the MCP server to clients: stdio now, HTTP
// later. Each transport is one file. Transports own no process state; they
// only move JSON-RPC messages between clients and the server.
//
// # Concurrency contract
//
// Serve functions block until their input ends or their context is done,
// and return only after every request they started has finished.
package transport
