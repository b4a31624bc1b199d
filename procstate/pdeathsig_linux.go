package procstate

import "syscall"

// setPdeathsig asks the kernel to SIGKILL the child if the server dies, so
// that not even a SIGKILLed server leaves its direct children running.
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
