//go:build !linux

package main

// wrapServer is only needed by the Linux signal tests.
func wrapServer() {}
