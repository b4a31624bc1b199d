package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// The bench binary is also the child program of the scenarios that need one
// written for the purpose: started with helperEnv set, it runs that helper
// instead of the bench.
const helperEnv = "BRUMMER_BENCH_HELPER"

// floodLine is the size of one flood line, newline included.
const floodLine = 100

// runHelper runs the helper named mode and returns the exit code.
func runHelper(mode string) int {
	switch mode {
	case "flood":
		flood(os.Stdout)
		return 0 // the reader went away
	}
	fmt.Fprintf(os.Stderr, "brummer-bench: unknown %s=%q\n", helperEnv, mode)
	return 2
}

// floodBlock is 655 lines of floodLine bytes (65,500 bytes): one write
// fills most of a 64 KiB pipe.
func floodBlock() []byte {
	line := make([]byte, floodLine)
	copy(line, "flood ")
	for i := len("flood "); i < floodLine-1; i++ {
		line[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[i%36]
	}
	line[floodLine-1] = '\n'
	return bytes.Repeat(line, 65536/floodLine)
}

// flood writes 100-byte lines to w as fast as w takes them, until a write
// fails (the reader closed the pipe or the process is being killed).
func flood(w io.Writer) {
	block := floodBlock()
	for {
		if _, err := w.Write(block); err != nil {
			return
		}
	}
}
