"""A controllable TCP proxy for the connection-loss tests (RELIABILITY.md 6.4, T-NET-*).

The test cluster listens on a unix socket only; keepalives and ``tcp_user_timeout`` matter only
over TCP. The proxy listens on 127.0.0.1 (an OS-chosen port; never another address) and forwards
every connection to the cluster's socket, so the app can connect with a ``server`` profile
(host 127.0.0.1, the proxy's port, sslmode disable) exactly as it would to a remote server.

Modes, switched from the test's thread (each call returns once the proxy applied it):

* ``resume()`` -- pass: forward both ways (the initial mode).
* ``cut()`` -- reset every open connection (RST), and reset new ones as soon as they are
  accepted, until ``resume()``: the server is gone, as the client sees it.
* ``blackhole()`` -- packets are dropped, nothing is reset: the proxy stops forwarding, and a
  classic BPF socket filter that drops every packet is attached to the listening socket and to
  every client connection. Stopping forwarding alone is not enough: the proxy's kernel would
  still acknowledge the client's data and answer its keepalive probes, so a dead network could
  never be detected. With the filter, the client's keepalive probes and data go unanswered
  (keepalives and ``tcp_user_timeout`` then end the connection on the client's side) and new
  connections hang in SYN-SENT until the client's ``connect_timeout``. Before the filters go
  on, the proxy waits (at most 1 s; on loopback, under a millisecond) until the clients have
  acknowledged what they were sent: a dropped acknowledgement would make the proxy's kernel
  retransmit, and every copy reaching the client would restart its keepalive clock (measured:
  detection in 11.7 s instead of 5 s). ``resume()`` removes the filters; data held meanwhile
  flows again on the connections that survived. Linux only.

One I/O thread runs a selector loop over non-blocking sockets (bounded: at most
``max_connections`` connections; more are reset). ``stop()`` closes everything and joins it.
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import errno
import fcntl
import selectors
import socket
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

__all__ = ["BLACKHOLE_SUPPORTED", "Mode", "TcpProxy", "unacknowledged"]

LOOPBACK = "127.0.0.1"
BLACKHOLE_SUPPORTED = sys.platform.startswith("linux")

_CHUNK = 65536
_BUFFER_LIMIT = 1 << 20  # per direction: stop reading a side whose data the other cannot take
_SO_ATTACH_FILTER = 26
_SO_DETACH_FILTER = 27
# One classic BPF instruction, BPF_RET|BPF_K with k = 0: keep 0 bytes, i.e. drop the packet.
_DROP_ALL = (ctypes.c_uint8 * 8)(*struct.pack("HBBI", 0x06, 0, 0, 0))
# struct sock_fprog {unsigned short len; struct sock_filter *filter;} (native alignment).
_DROP_ALL_PROG = struct.pack("HP", 1, ctypes.addressof(_DROP_ALL))


class Mode(enum.Enum):
    PASS = "pass"
    CUT = "cut"
    BLACKHOLE = "blackhole"


class _Link:
    """One client connection and its upstream connection to the server's socket."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.to_upstream = bytearray()
        self.to_client = bytearray()
        self.client_eof = False
        self.upstream_eof = False
        self.closed = False


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER on, timeout 0), as a crashed or restarted peer would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def unacknowledged(sock: socket.socket) -> int:
    """Bytes sent on `sock` and not acknowledged by the peer yet (SIOCOUTQ)."""
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
    except OSError:
        return 0
    return int(struct.unpack("i", raw)[0])


def _set_filter(sock: socket.socket, drop: bool) -> None:
    if drop:
        sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, _DROP_ALL_PROG)
    else:
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_DETACH_FILTER, 0)
        except OSError as error:  # no filter attached
            if error.errno != errno.ENOENT:
                raise


class TcpProxy:
    """See the module docstring. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(
        self,
        target: str | Path | Callable[[], str | Path],
        *,
        max_connections: int = 32,
        upstream_timeout: float = 2.0,
    ) -> None:
        # The target (a unix socket path) is resolved per connection: it may change when the
        # server restarts.
        self._target = target if callable(target) else (lambda: target)
        self._max_connections = max_connections
        self._upstream_timeout = upstream_timeout
        self._mode = Mode.PASS
        self._links: list[_Link] = []
        self._selector = selectors.DefaultSelector()
        self._registered: dict[socket.socket, int] = {}
        self._lock = threading.Lock()
        self._commands: list[tuple[Mode | None, threading.Event]] = []
        self._wake_r, self._wake_w = socket.socketpair()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.error: BaseException | None = None  # what ended the loop, if not stop()
        self.accepted = 0  # connections accepted so far (including reset ones)
        self.refused = 0  # connections reset at once (cut mode, upstream down, too many)

    # -- public ---------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the proxy is not started")
        return int(self._listener.getsockname()[1])

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def start(self) -> TcpProxy:
        if self._thread is not None:
            raise RuntimeError("the proxy is already started")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, 0))
        listener.listen(64)
        listener.setblocking(False)
        self._listener = listener
        self._wake_r.setblocking(False)
        self._watch(self._wake_r, selectors.EVENT_READ)
        self._watch(listener, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._loop, name="tcp-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection and the listener; returns once the thread has ended."""
        thread = self._thread
        if thread is None:
            return
        if thread.is_alive():
            self._post(None, timeout)
            thread.join(timeout)
        if thread.is_alive():  # pragma: no cover - a bug in the loop
            raise RuntimeError("the proxy thread did not stop")
        self._thread = None
        self._wake_r.close()
        self._wake_w.close()
        if self.error is not None:
            raise RuntimeError("the proxy's loop failed") from self.error

    def resume(self) -> None:
        """Forward again (drops the blackhole's filters; new connections are served)."""
        self._post(Mode.PASS)

    def cut(self) -> None:
        """Reset every connection now, and every new one until :meth:`resume`."""
        self._post(Mode.CUT)

    def blackhole(self) -> None:
        """Drop every packet, in and out, of the open connections and of new ones."""
        if not BLACKHOLE_SUPPORTED:
            raise NotImplementedError("blackhole needs Linux socket filters")
        self._post(Mode.BLACKHOLE)

    def __enter__(self) -> TcpProxy:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- control --------------------------------------------------------------------------

    def _post(self, mode: Mode | None, timeout: float = 5.0) -> None:
        if self._thread is None:
            raise RuntimeError("the proxy is not started")
        if self.error is not None:
            raise RuntimeError("the proxy's loop failed") from self.error
        done = threading.Event()
        with self._lock:
            self._commands.append((mode, done))
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if not done.wait(timeout):
            raise RuntimeError(f"the proxy did not apply {mode} within {timeout} s") from self.error
        if self.error is not None and mode is not None:
            raise RuntimeError("the proxy's loop failed") from self.error

    def _run_commands(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
        with self._lock:
            commands, self._commands = self._commands, []
        for mode, done in commands:
            if mode is None:
                self._stopping = True
            else:
                self._apply(mode)
            done.set()

    def _apply(self, mode: Mode) -> None:
        previous, self._mode = self._mode, mode
        assert self._listener is not None
        if previous is Mode.BLACKHOLE and mode is not Mode.BLACKHOLE:
            _set_filter(self._listener, drop=False)
            for link in self._links:
                with contextlib.suppress(OSError):
                    _set_filter(link.client, drop=False)
        if mode is Mode.BLACKHOLE and previous is not Mode.BLACKHOLE:
            _set_filter(self._listener, drop=True)
            # Forwarding has stopped. Let the client acknowledge what it was sent, then drop
            # its packets: an acknowledgement dropped here would make this kernel retransmit
            # the data, and each copy would reach the client -- which a dead network never
            # does -- and restart its keepalive clock.
            self._wait_acknowledged(deadline=time.monotonic() + 1.0)
            for link in self._links:
                with contextlib.suppress(OSError):
                    _set_filter(link.client, drop=True)
        if mode is Mode.CUT:
            for link in list(self._links):
                self._close(link, reset=True)
        for link in list(self._links):
            self._update(link)
        # No accepting while black-holed: the filter already drops new SYNs.
        self._watch(self._listener, 0 if mode is Mode.BLACKHOLE else selectors.EVENT_READ)

    def _wait_acknowledged(self, deadline: float) -> None:
        """Until every client has acknowledged all data sent to it (or the deadline)."""
        while time.monotonic() < deadline:
            if all(unacknowledged(link.client) == 0 for link in self._links):
                return
            time.sleep(0.005)

    # -- the loop -------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while not self._stopping:
                for key, events in self._selector.select(timeout=1.0):
                    sock = key.fileobj
                    if sock is self._wake_r:
                        self._run_commands()
                    elif sock is self._listener:
                        self._accept()
                    else:
                        link = key.data
                        assert isinstance(link, _Link)
                        if not link.closed:
                            self._serve(link, sock, events)  # type: ignore[arg-type]
                    if self._stopping:
                        break
        except BaseException as error:  # a bug here: make the test fail, not hang
            self.error = error
            raise
        finally:
            for link in list(self._links):
                self._close(link, reset=False)
            if self._listener is not None:
                self._listener.close()
            self._selector.close()
            with self._lock:  # nobody waits for commands that will never run
                commands, self._commands = self._commands, []
            for _mode, done in commands:
                done.set()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            self.accepted += 1
            if self._mode is not Mode.PASS or len(self._links) >= self._max_connections:
                self.refused += 1
                _reset(client)
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.settimeout(self._upstream_timeout)
                upstream.connect(str(self._target()))
            except OSError:  # the server is down: the client sees a reset
                upstream.close()
                self.refused += 1
                _reset(client)
                continue
            client.setblocking(False)
            upstream.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            self._links.append(link)
            self._update(link)

    def _serve(self, link: _Link, sock: socket.socket, events: int) -> None:
        from_client = sock is link.client
        try:
            if events & selectors.EVENT_READ:
                data = sock.recv(_CHUNK)
                if not data:
                    if from_client:
                        link.client_eof = True
                    else:
                        link.upstream_eof = True
                elif from_client:
                    link.to_upstream += data
                else:
                    link.to_client += data
            self._flush(link)
        except OSError:
            self._close(link, reset=from_client is False)
            return
        if (link.upstream_eof and not link.to_client) or (link.client_eof and not link.to_upstream):
            self._close(link, reset=False)
        else:
            self._update(link)

    def _flush(self, link: _Link) -> None:
        if self._mode is not Mode.PASS:
            return
        for sock, buffer in ((link.upstream, link.to_upstream), (link.client, link.to_client)):
            while buffer:
                try:
                    sent = sock.send(buffer)
                except BlockingIOError:
                    break
                del buffer[:sent]

    def _update(self, link: _Link) -> None:
        """Register exactly the events each socket of `link` should wake the loop for."""
        if link.closed:
            return
        if self._mode is not Mode.PASS:
            # Black-holed: forward nothing, read nothing; data already read waits here.
            self._watch(link.client, 0, link)
            self._watch(link.upstream, 0, link)
            return
        client = upstream = 0
        if not link.client_eof and len(link.to_upstream) < _BUFFER_LIMIT:
            client |= selectors.EVENT_READ
        if not link.upstream_eof and len(link.to_client) < _BUFFER_LIMIT:
            upstream |= selectors.EVENT_READ
        if link.to_client:
            client |= selectors.EVENT_WRITE
        if link.to_upstream:
            upstream |= selectors.EVENT_WRITE
        self._watch(link.client, client, link)
        self._watch(link.upstream, upstream, link)

    def _watch(self, sock: socket.socket, events: int, data: object = None) -> None:
        current = self._registered.get(sock, 0)
        if events == current:
            return
        if events == 0:
            self._selector.unregister(sock)
            del self._registered[sock]
        elif current == 0:
            self._selector.register(sock, events, data)
            self._registered[sock] = events
        else:
            self._selector.modify(sock, events, data)
            self._registered[sock] = events

    def _close(self, link: _Link, *, reset: bool) -> None:
        if link.closed:
            return
        link.closed = True
        for sock in (link.client, link.upstream):
            self._watch(sock, 0)
        if reset:
            _reset(link.client)
        else:
            link.client.close()
        link.upstream.close()
        self._links.remove(link)
