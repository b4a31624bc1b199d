// Package procstate is brummer-mcp's process state core: a supervisor that
// spawns and stops child processes, and immutable process records published
// through atomic pointers. Each process's output goes to a bounded log ring
// (package logring).
//
// # Concurrency contract
//
// Readers never take a lock that a writer holds. [Supervisor.Get],
// [Supervisor.Processes], [Process.Record], [Process.Findings],
// [Process.Usage] and every
// read method of a process's log ring ([Process.Log]) are
// atomic loads of immutable values: any number of goroutines may call them at
// any time, at full speed, while processes start, stop and flood output.
//
// Ownership of mutable state:
//   - The registry index (name -> *Process, sorted) is owned by the
//     Supervisor. It is replaced as a whole, under Supervisor.mu, only when a
//     process is added or removed; readers Load it.
//   - Each Process's [Record] is owned by that Process. Writers (the start
//     path, the single waiter goroutine, stop) serialise on Process.mu, copy
//     the current record, change it and publish it with one atomic store. A
//     published Record is never mutated again. Updating one process therefore
//     costs one small copy, not a copy of the registry.
//   - Each Process's log ring is written by its two pipe readers and the
//     supervisor's notes about runs, all through the ring's own lock (see
//     package logring for how readers go without one). The runs of a name
//     share its ring.
//   - A Process's restart streak and pending restart (restart policies) are
//     guarded by its mu; the next run registers over a process in backoff
//     only while holding Supervisor.mu and then that mu, in that order.
//   - A run's [Findings] are owned by the supervisor's analyzer goroutine,
//     which keeps its progress through each run's lines (Process.an) and
//     publishes a new immutable Findings with one atomic store. It reads
//     the logs off the ingest path: a pipe reader only sets a flag and,
//     when the flag was clear, wakes it (one atomic load per read
//     otherwise). Once the analyzer has stopped (Close), a run that ends
//     is finished by its own waiter, the only goroutine left that touches
//     that run's analysis.
//   - A run's [Usage] is owned by the supervisor's usage sampler (Linux),
//     which samples every running run's process group at most once per
//     UsageEvery, only while someone wants usage ([Supervisor.WantUsage]:
//     an atomic store, and a wake-up when the sampler sleeps), and
//     publishes each sample with one atomic store. The readings it
//     compares samples with are its own.
//   - Process groups are signalled only through internal/pgroup (see
//     Platforms below); the groups of exited processes whose members
//     outlived them are listed, under Supervisor.deferMu, until they are
//     seen gone.
//
// Every goroutine started here has an owner and a wait: per child, one waiter
// goroutine (the only caller of Wait) and two pipe readers, all joined before
// the exit is published or, at the latest, by [Supervisor.Close]; per
// supervisor, the analyzer and (Linux) the usage sampler, started by [New]
// and stopped and joined by Close, the analyzer after the final findings of
// every run. Neither runs while there is nothing to do: the analyzer sleeps
// until a log grows or a run ends, the sampler until usage is wanted.
//
// Waiting for a change is done with [Record.Changed], a channel closed when
// the record is superseded, combined with the caller's context; or, for a
// change of anything the supervisor shows (records, the set of processes,
// findings, usage), with [Supervisor.Changes], a channel closed when
// [Supervisor.Generation] passes a mark. Every writer bumps the generation
// after it publishes; the signal is lock-free and costs a writer nothing
// but an atomic add and load while nobody watches.
//
// # Platforms
//
// On Unix each child leads a process group of its own and a stop signals
// the group; Linux adds a parent-death signal and, with Config.Subreaper, a
// child subreaper. A group is never signalled by its id alone once that id
// may belong to someone else: every signal goes through
// internal/pgroup.Group, which uses the id only while the leader is
// unreaped, and afterwards reaches only members it can prove ours. The
// waiter keeps the exited leader an unreaped zombie while its pipes drain,
// which pins the id, and records the members that still hold the pipes
// before it reaps. A group once seen empty is never signalled again. Windows has neither process groups nor signals: each
// child runs in a job object of its own, owned by its Process like a
// process group id, and released once the group is empty or killed. KILL
// terminates the job, TERM and INT become a CTRL_BREAK_EVENT, and the jobs,
// whose only handles this process holds, die with it. An index of the live
// jobs by leader pid, written only at spawn and release, answers
// [GroupAlive] there. Platform code lives in files named for the platform.
package procstate
