"""A simulated remote link for the lifecycle probe: a TCP relay on 127.0.0.1 that holds every
chunk for half the chosen round-trip time in each direction before passing it on (a delay line:
order kept, no loss, no bandwidth limit).

tc netem on a veth pair would be the kernel's way; this machine's kernel has no sch_netem
("Specified qdisc kind is unknown"), so the delay is made in user space, on loopback only."""

from __future__ import annotations

import queue
import socket
import threading
import time
from types import TracebackType


class _Direction:
    """One direction of one connection: a reader stamps each chunk, a writer sends it when due."""

    def __init__(self, source: socket.socket, sink: socket.socket, delay: float) -> None:
        self.source, self.sink, self.delay = source, sink, delay
        self.chunks: queue.Queue[tuple[float, bytes | None]] = queue.Queue()
        self.threads = [threading.Thread(target=self._read, daemon=True), threading.Thread(target=self._write, daemon=True)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _read(self) -> None:
        try:
            while chunk := self.source.recv(65536):
                self.chunks.put((time.monotonic() + self.delay, chunk))
        except OSError:
            pass
        self.chunks.put((time.monotonic() + self.delay, None))

    def _write(self) -> None:
        while True:
            due, chunk = self.chunks.get()
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            try:
                if chunk is None:
                    self.sink.shutdown(socket.SHUT_WR)
                    return
                self.sink.sendall(chunk)
            except OSError:
                return


class DelayLink:
    def __init__(self, target: tuple[str, int], rtt_ms: float) -> None:
        self.target = target
        self.rtt_ms = rtt_ms
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> "DelayLink":
        self._acceptor.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _accept(self) -> None:
        one_way = self.rtt_ms / 2000
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._sockets.append(sock)
            _Direction(client, server, one_way).start()
            _Direction(server, client, one_way).start()

    def close(self) -> None:
        self._closed.set()
        self.listener.close()
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in recv
            except OSError:
                pass
            sock.close()
