package main

// catchSignals has nothing to do on Windows: there is no SIGPIPE, and no
// signal disposition passes to a child.
func catchSignals() {}
