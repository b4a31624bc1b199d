package procstate

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// stillActive is STILL_ACTIVE, the exit code of a running process.
const stillActive = 259

var isProcessInJob = windows.NewLazySystemDLL("kernel32.dll").NewProc("IsProcessInJob")

// procState reports whether pid is running and, as its "process group",
// the leader pid of the job of ours it is in (0 if none); ok is false when
// the process does not exist or has exited.
func procState(pid int) (state byte, pgrp int, ok bool) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return 0, 0, false
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil || code != stillActive {
		return 0, 0, false
	}
	jobs.Range(func(k, v any) bool {
		g := v.(*group)
		g.mu.Lock()
		defer g.mu.Unlock()
		var in int32
		if g.job != 0 {
			if r, _, _ := isProcessInJob.Call(uintptr(h), uintptr(g.job), uintptr(unsafe.Pointer(&in))); r != 0 && in != 0 {
				pgrp = k.(int)
			}
		}
		return pgrp == 0
	})
	return 'R', pgrp, true
}
