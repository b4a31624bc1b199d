//go:build !linux

package main

// unblockSignals does nothing here: only Linux is checked for an inherited
// signal mask (see signals_linux.go).
func unblockSignals() {}
