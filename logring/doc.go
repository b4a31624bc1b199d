// Package logring keeps a process's output as a bounded, append-only log
// of lines addressed by sequence number, readable without locks while it
// floods.
//
// A [Ring] keeps at most a number of lines and of bytes; the oldest lines
// are evicted first, and a reader whose cursor points at evicted lines is
// told how many it missed. [Ring.Ingest] reads a pipe into the ring, cut
// into lines by [SplitLines] (at a newline, or at [MaxLineBytes]; invalid
// UTF-8 replaced); [Ring.Append] adds lines from elsewhere. [Ring.Read]
// returns a page of lines after a cursor, or the tail, filtered;
// [Ring.Wait] returns a channel closed when lines newer than a cursor
// arrive; [Ring.Stats] the counters.
//
// # Concurrency contract
//
// Writers (Ingest, Append, Close) serialise on the ring's mutex; any number
// of readers (Read, Wait, Stats) run at any time without taking it. The
// memory order and the reuse of memory without a garbage-collected pointer
// per line are explained on [Ring]: records and text are written where no
// published line is, a batch is published by one store of the newest
// sequence number, readers detect lines evicted under them, and blocks and
// chunks are reused only after every read that could see them has ended
// (two epoch counters), so a flood allocates nothing. Lines returned by
// Read are copies: they stay valid after the read.
package logring
