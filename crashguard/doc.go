// Package crashguard kills what a server's children left running when the
// server itself died without stopping them: SIGKILL, the OOM killer, a
// crash. It has two lines of defence, both told of every process group by
// the supervisor through one [Guard] (a procstate.GroupWatcher):
//
//   - The watchdog: a tiny process (the server's own binary, re-executed
//     with EnvMode=1) that holds the list of groups. The server tells it of
//     each change over a pipe, whose read end only the watchdog holds (a
//     removal waits for the next change, or 50 ms: each write wakes the
//     watchdog, and a stale record kills nothing that is not ours). When
//     the pipe reaches EOF without a clean goodbye, the server is gone: the
//     watchdog kills what is left of every group on its list, and exits.
//   - The state file: DIR/<pid>.json, replaced atomically after changes
//     (at most every writeInterval) and removed on a clean exit. The next
//     instance's [Recover] kills what a dead instance left, for when the
//     watchdog died too (the OOM killer, a kill of the whole tree).
//
// Neither kills by group id alone. Each group is recorded by its id and its
// leader's start time and, from just before the server reaps the leader,
// with the moment of the reap and the members that outlived it. Only the
// members that pgroup's identity rule proves to be ours are killed: while
// the leader (pid and start time) is still there, everything in the group;
// otherwise members recorded at the reap, members that started before a
// moment the leader was known to be unreaped (the reap; for a leader the
// server never reaped, the server's last sign of life: the pipe's EOF for
// the watchdog, the file's last write for recovery), and their
// descendants. A group id reused by a stranger is left alone.
//
// Windows needs neither: procstate puts each child in a job object whose
// only handle the server holds, and the system kills the job when the
// server dies, however it dies. [Start] returns an error wrapping
// errors.ErrUnsupported there.
//
// # Concurrency contract
//
// A Guard may be used from any goroutine: the watchdog's pipe is written
// under a mutex, the state file's groups are updated under another and
// written by the file's own goroutine, which Close stops and waits for. If
// the watchdog dies, the guard logs it once and goes on with the file.
package crashguard
