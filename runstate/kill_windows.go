package runstate

// On Windows a child's job object dies with the server (kill on job close),
// so there is nothing to recover: no group is ever reported.
func recoverable(group) bool { return false }

func alive(int) bool { return true } // leave other instances' records alone

func killGroup(int) error { return nil }
