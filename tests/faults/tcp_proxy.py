"""A TCP proxy the fault suite controls, between Accueil and PostgreSQL: `cut()` acts as a stopped server
(open connections reset, new ones refused) without touching the machine's shared PostgreSQL server."""

from __future__ import annotations

import socket
import struct
import threading


class TcpProxy:
    def __init__(self, target: tuple[str, int], port: int, host: str = "127.0.0.1") -> None:
        self.target = target
        self.address = (host, port)
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc) -> None:
        self.cut()

    @property
    def port(self) -> int:
        return self.address[1]

    def restore(self) -> None:
        """Accepts and forwards connections again."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self.address)
        listener.listen(64)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuses new connections and resets the open ones, as a PostgreSQL server that stopped would."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: else the port stays bound until a client comes
            except OSError:
                pass
            listener.close()
        for conn in connections:
            try:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # Ends the connection now, although a pump thread is still in recv() on it (close() alone would wait
                # for that thread, and PostgreSQL would keep the session and its locks).
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                self._connections.discard(source)
                self._connections.discard(sink)
            source.close()
