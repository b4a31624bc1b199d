package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// helperEnv, set in the environment, makes the bench binary a child program
// instead: "flood" writes floodLine-byte lines as fast as they are read.
const helperEnv = "BRUMMER_BENCH_HELPER"

const floodLine = 100

func runHelper(mode string) int {
	if mode != "flood" {
		fmt.Fprintf(os.Stderr, "brummer-bench: unknown %s=%q\n", helperEnv, mode)
		return 2
	}
	flood(os.Stdout)
	return 0 // the reader went away
}

// floodBlock is 655 lines (65,500 bytes): one write fills most of a 64 KiB
// pipe.
func floodBlock() []byte {
	line := make([]byte, floodLine)
	for i := range line {
		line[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[i%36]
	}
	copy(line, "flood ")
	line[floodLine-1] = '\n'
	return bytes.Repeat(line, 65536/floodLine)
}

// flood writes lines to w until a write fails.
func flood(w io.Writer) {
	block := floodBlock()
	for {
		if _, err := w.Write(block); err != nil {
			return
		}
	}
}
