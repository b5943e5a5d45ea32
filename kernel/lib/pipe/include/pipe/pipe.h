/*
 * Pipes: pipe_create makes a pipe and installs its two ends as descriptors of the VFS's table,
 * so read/write/close/dup/fcntl/fstat/poll work on them through the VFS like on any file.
 *
 * Semantics (Linux's): a read blocks while the pipe is empty and a write end is open, then
 * returns what is there (0 at EOF: every write end closed); a write of at most PIPE_BUF bytes
 * is atomic (it waits for room for all of it); a longer one may be split, and blocks until all
 * of it is written; with every read end closed a write gives -EPIPE (the syscall layer raises
 * SIGPIPE). O_NONBLOCK (pipe2's flag, or fcntl F_SETFL on an end) gives -EAGAIN instead of
 * blocking. Blocking waits on a wait queue of the scheduler: another thread is the other end;
 * a lone thread that blocks ends in the scheduler's deadlock panic, where Linux hangs.
 */
#ifndef PIPE_PIPE_H
#define PIPE_PIPE_H

#define PIPE_BUF 4096 /* writes up to this size are atomic (POSIX PIPE_BUF, Linux's value) */

/* fds[0]: the read end, fds[1]: the write end. flags: 0, VFS_O_NONBLOCK and/or VFS_O_CLOEXEC
 * (both ends); -EINVAL for others, -EMFILE, -ENOMEM. */
int pipe_create(int fds[2], int flags);

#endif
