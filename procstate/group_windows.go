package procstate

import (
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows has no process groups that a signal reaches. A child's group is
// a job object of its own instead: the child is assigned to it while it is
// still suspended (sysProcAttr starts it with CREATE_SUSPENDED), so that
// everything it spawns is born inside the job. The job is created with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and this process holds its only handle:
// when the server dies, however it dies, the system closes the handle and
// kills every process in the job. That is why Windows needs no watchdog.

// killedExitCode is the exit code TerminateJobObject gives the processes
// it kills: 128+9, the code a shell reports for a SIGKILLed process.
const killedExitCode = 137

// group is a child's job object. The methods accept a nil group (never
// spawned).
type group struct {
	pid int // the leader's pid, also its console process group id

	mu sync.Mutex
	// job is the job object; leader is a handle to the leader, held so that
	// its pid, which names its console process group, is not reused while
	// the group may be signalled. Both are guarded by mu and 0 once the
	// group is released.
	job, leader windows.Handle
	terminated  bool // guarded by mu: TerminateJobObject was called
}

// jobs maps a leader's pid to its group, for GroupAlive: Windows has no
// namespace of groups to ask by id. Written only by startGroup and release.
var jobs sync.Map // int -> *group

// startGroup puts a child just started (suspended) by sysProcAttr in a new
// job object, then lets it run. If that fails, the child has been killed
// and reaped.
func startGroup(cmd *exec.Cmd, _ bool, _ [2]uint64) (*group, error) {
	g, err := newJob(cmd.Process.Pid)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	jobs.Store(g.pid, g)
	return g, nil
}

func newJob(pid int) (*group, error) {
	g := &group{pid: pid}
	if err := g.open(); err != nil {
		g.close() // kills the child if it is in the job already
		return nil, err
	}
	return g, nil
}

// open creates the job, assigns the suspended leader to it and resumes it.
func (g *group) open() error {
	var err error
	if g.job, err = windows.CreateJobObject(nil, nil); err != nil {
		return fmt.Errorf("create job object: %w", err)
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err = windows.SetInformationJobObject(g.job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		return fmt.Errorf("set job object limits: %w", err)
	}
	g.leader, err = windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(g.pid))
	if err != nil {
		return fmt.Errorf("open child process: %w", err)
	}
	if err = windows.AssignProcessToJobObject(g.job, g.leader); err != nil {
		return fmt.Errorf("assign child to job object: %w", err)
	}
	if err = resumeProcess(g.pid); err != nil {
		return fmt.Errorf("resume child: %w", err)
	}
	return nil
}

// resumeProcess resumes the threads of a process created suspended: its
// main thread. os/exec does not hand out the thread handle, so the thread
// is found by a snapshot of the system's threads.
func resumeProcess(pid int) error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(snap)
	resumed := 0
	te := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	for err = windows.Thread32First(snap, &te); err == nil; err = windows.Thread32Next(snap, &te) {
		if te.OwnerProcessID != uint32(pid) {
			continue
		}
		th, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, te.ThreadID)
		if err != nil {
			return err
		}
		_, err = windows.ResumeThread(th)
		windows.CloseHandle(th)
		if err != nil {
			return err
		}
		resumed++
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return err
	}
	if resumed == 0 {
		return errors.New("no thread found")
	}
	return nil
}

// ref identifies the group; nothing outside the server needs it on
// Windows (no watchdog: the job dies with the server).
func (g *group) ref() GroupRef {
	if g == nil {
		return GroupRef{}
	}
	return GroupRef{Pgid: g.pid}
}

// reap reports and runs wait. The job handle, not a pid, names the group
// here, so reaping the leader cannot let a signal reach a stranger.
func (g *group) reap(_ bool, report func(GroupRef), wait func()) {
	if report != nil {
		report(g.ref())
	}
	wait()
}

// setNice does nothing here: the priority class was set at creation (see
// sysProcAttr) and is inherited by the job's processes.
func (g *group) setNice(nice int) error { return nil }

// signal asks the group to stop, or kills it. SIGKILL terminates every
// process in the job. Any other signal (SignalByName offers TERM and INT)
// becomes a CTRL_BREAK_EVENT to the leader's console process group (it was
// started with CREATE_NEW_PROCESS_GROUP): console programs end on it by
// default or handle it (Go reports it as os.Interrupt, Node as SIGBREAK).
// It reaches only the members attached to our console; if it cannot be
// sent, the error says so and the stop terminates the job when its grace
// period ends. There is no SIGTERM to send on Windows.
func (g *group) signal(sig syscall.Signal) error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.job == 0 {
		return nil // released: empty or killed already
	}
	if sig == syscall.SIGKILL {
		g.terminated = true
		if err := windows.TerminateJobObject(g.job, killedExitCode); err != nil {
			return fmt.Errorf("terminate job object: %w", err)
		}
		return nil
	}
	// The leader handle we hold keeps g.pid from naming another process:
	// GenerateConsoleCtrlEvent treats the id of a console process that
	// leads no group like 0, "every process on the console", us included.
	if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(g.pid)); err != nil {
		return fmt.Errorf("send CTRL_BREAK_EVENT: %w", err)
	}
	return nil
}

// alive reports whether any process of the job is still running. A query
// that fails counts as alive: the stop then ends in TerminateJobObject.
func (g *group) alive() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.job == 0 {
		return false
	}
	var info jobAccounting
	err := windows.QueryInformationJobObject(g.job, windows.JobObjectBasicAccountingInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil)
	return err != nil || info.ActiveProcesses > 0
}

// jobAccounting is JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, which
// x/sys/windows does not define.
type jobAccounting struct {
	TotalUserTime             int64
	TotalKernelTime           int64
	ThisPeriodTotalUserTime   int64
	ThisPeriodTotalKernelTime int64
	TotalPageFaultCount       uint32
	TotalProcesses            uint32
	ActiveProcesses           uint32
	TotalTerminatedProcesses  uint32
}

// release closes the job once the group is empty or killed. Closing the
// last handle of a KILL_ON_JOB_CLOSE job kills whatever is still in it.
func (g *group) release() {
	if g == nil {
		return
	}
	jobs.CompareAndDelete(g.pid, g)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.close()
}

// close closes the handles; g.mu is held or g is not shared yet.
func (g *group) close() {
	if g.job != 0 {
		windows.CloseHandle(g.job)
		g.job = 0
	}
	if g.leader != 0 {
		windows.CloseHandle(g.leader)
		g.leader = 0
	}
}

// wasTerminated reports whether TerminateJobObject was called.
func (g *group) wasTerminated() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.terminated
}

// GroupAlive reports whether any process of the job whose leader had pid
// pgid is still running. On Windows only the jobs of this process's
// supervisors are known, and a released job (its group empty or killed)
// counts as gone. Tests and tools use it to check that a stop left nothing
// behind.
func GroupAlive(pgid int) bool {
	g, ok := jobs.Load(pgid)
	return ok && g.(*group).alive()
}
