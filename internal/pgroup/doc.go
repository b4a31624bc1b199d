// Package pgroup signals process groups without ever reaching a process
// that is not ours, and reads what the kernel says about processes
// (/proc/PID/stat, /proc/PID/statm). It is the one home of these syscalls:
// the supervisor, the crash guard and the state-file recovery all go
// through it.
//
// # The identity rule
//
// A process group's id is its leader's pid. Pids are reused, and so are
// group ids: once every member of a group is gone, a new process may get
// the leader's old pid and lead a new group with the same id. Signalling
// "-pgid" then reaches a stranger. The kernel never hands out a pid, and so
// never lets a group take an id, while any process still has that pid or
// belongs to a group with that id, zombies included. Hence:
//
//  1. While our leader is unreaped (alive or a zombie that only we may
//     reap), its pid, and with it the group id, cannot be reused: the whole
//     group is ours, and kill(-pgid) is exact. [Group] holds a lock that
//     both [Group.Signal] and [Group.Reap] take, so no signal is sent by
//     group id once the reap may have happened.
//  2. After the reap, a member is ours only if it is provably one: it
//     started before a moment at which the leader was known to be unreaped
//     (a foreign group with that id can only have been formed, and its
//     members started, after our group was empty, which was after the
//     reap), or its parent is such a member (descendants forked later), or
//     the leader, identified by pid and start time, was still there when
//     the group was scanned. Each proven member is then signalled on its
//     own through a pidfd opened before its identity is checked again, so
//     the signal reaches exactly the process that was checked.
//  3. A server that is gone (the watchdog, the next instance's recovery)
//     applies rule 2 with the best moment it knows: the leader's reap
//     recorded by the server, or, for a leader the server never reaped, the
//     last moment the server was known to be alive.
//
// [Owned] is rule 2 and 3; [Group] adds rule 1 for the living server.
// Start times are clock ticks since boot (field 22 of /proc/PID/stat, at
// 100 per second); "started before tick T" is strict, so a process that
// started in the same tick as T is never claimed by time alone.
//
// To kill a group after its leader's reap, [Owned.Kill] first stops every
// proven member (SIGSTOP) until no new one appears, so that a member cannot
// fork a child that escapes between the scan and the kill, then SIGKILLs
// them all.
//
// # Platforms
//
// Linux reads /proc and signals through pidfds. Elsewhere [Scan] and
// [Stat] return errors.ErrUnsupported: rule 1 still holds, but after the
// reap nothing can be proven, so nothing is signalled. [RSS] is Linux only.
//
// # Concurrency contract
//
// [Group] may be used from any goroutine; its mutex serialises signals and
// the reap. Everything else is stateless.
package pgroup
