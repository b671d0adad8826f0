"""The pidfile and ``--detach``: the only traces a pyovn daemon leaves on the host.

The pidfile works as OVS's does, so that ``ovn-appctl -t PROGRAM`` (which checks the
lock) and OVS's tools accept it: the file holds the pid and the daemon holds an fcntl
write lock on it for its whole life. The lock, not the pid, says whether the owner is
alive: the kernel drops it when the process dies, however it dies, so after a
``kill -9`` the next start finds the file unlocked, calls it stale and takes it over
(crash-only), while a live owner makes the start fail with a clear message.

``--detach`` forks; the parent waits until the child says it is ready (the control
socket exists) and exits 0, or exits with the child's status if the child gave up
first — the same contract as OVS daemons, so a script may use the daemon as soon as
the command that started it returns.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from pathlib import Path
from typing import TextIO

from pyovn.daemon.errors import DaemonError

# (st_dev, st_ino) of the pidfiles this process holds. fcntl locks belong to the
# process, so testing our own file would "succeed" and closing the test's descriptor
# would drop our lock: our own pidfiles are recognised by identity instead.
_held: set[tuple[int, int]] = set()


class Pidfile:
    """A pidfile this process created and holds locked; :meth:`remove` at exit.

    The process must never open its own pidfile otherwise (not even to read it):
    closing any descriptor of a file drops all of the process's fcntl locks on it.
    """

    def __init__(self, path: Path, handle: TextIO) -> None:
        self.path = path
        self._handle: TextIO | None = handle
        st = os.fstat(handle.fileno())
        self._identity = (st.st_dev, st.st_ino)
        _held.add(self._identity)

    @classmethod
    def create(cls, path: Path, *, overwrite: bool = False) -> Pidfile:
        """Write and lock ``path`` for this process.

        A stale pidfile (no live owner) is replaced; a live owner raises
        :class:`DaemonError` unless ``overwrite`` (``--overwrite-pidfile``).
        """
        pid = os.getpid()
        tmp = path.with_name(f"{path.name}.tmp{pid}")
        try:
            handle = open(tmp, "w", encoding="ascii")  # noqa: SIM115 - held for life
        except OSError as exc:
            raise DaemonError(f"{tmp}: create failed ({exc.strerror})") from None
        try:
            handle.write(f"{pid}\n")
            handle.flush()
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if overwrite:
                os.replace(tmp, path)
            else:
                _link_claiming_stale(tmp, path)
        except BaseException:
            handle.close()
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return cls(path, handle)

    def remove(self) -> None:
        """Delete the pidfile (if it is still ours) and release the lock. Idempotent."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        _held.discard(self._identity)
        try:
            st = os.stat(self.path)
            if (st.st_dev, st.st_ino) == self._identity:
                self.path.unlink()
        except FileNotFoundError:
            pass
        finally:
            handle.close()


def _link_claiming_stale(tmp: Path, path: Path) -> None:
    # link() cannot replace, so two daemons racing for one pidfile cannot both win.
    for _ in range(100):
        try:
            os.link(tmp, path)
            return
        except FileExistsError:
            pass
        except OSError as exc:
            raise DaemonError(f'failed to link "{tmp}" as "{path}" ({exc.strerror})') from None
        owner = pidfile_owner(path, delete_if_stale=True)
        if owner is not None:
            raise DaemonError(f"{path}: already running as pid {owner}, aborting")
    raise DaemonError(f"{path}: could not take over the pidfile, aborting")


def pidfile_owner(path: Path, *, delete_if_stale: bool = False) -> int | None:
    """The pid of the live process holding ``path`` locked, else None.

    With ``delete_if_stale`` an unlocked (stale) pidfile is removed. A locked file
    that holds no pid raises :class:`DaemonError`.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if (st.st_dev, st.st_ino) in _held:
        return os.getpid()
    try:
        handle = open(path, "r+", encoding="ascii")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DaemonError(f"{path}: open failed ({exc.strerror})") from None
    with handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = handle.read().strip()
            if not text.isdigit():
                raise DaemonError(f"{path}: locked but holds no pid ({text!r})") from None
            return int(text)
        # Unlocked: the owner is gone. Delete only the file we locked, not a new one
        # another starting daemon may have linked in the meantime.
        if delete_if_stale:
            with contextlib.suppress(FileNotFoundError):
                now, mine = os.stat(path), os.fstat(handle.fileno())
                if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
                    path.unlink()
        return None


def detach_start() -> int:
    """Fork. In the parent, wait for the child's :func:`detach_complete` and exit 0 (or
    with the child's status if it exits first); never returns there. In the child,
    start a new session and return the fd to pass to :func:`detach_complete`."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.setsid()
        return write_fd
    os.close(write_fd)
    ready = os.read(read_fd, 1)
    if ready:
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code <= 0:
        sys.stderr.write(f"fork child died before signaling startup (status {code})\n")
        sys.stderr.flush()
        code = 1
    os._exit(code)


def detach_complete(ready_fd: int, *, chdir: bool) -> None:
    """In the detached child: tell the parent we are ready, leave the caller's working
    directory (unless ``--no-chdir``) and let go of its terminal (stdin/out/err)."""
    os.write(ready_fd, b"0")
    os.close(ready_fd)
    if chdir:
        os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
