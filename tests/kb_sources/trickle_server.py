"""A server that sends one body 16 bytes at a time, in a process of its own: a thread of the test process that holds
the interpreter (spaCy loading its model, say) cannot then pause it and pass for a silent server.

python -m tests.kb_sources.trickle_server BODY_FILE SECONDS_BETWEEN_PIECES  (prints its port, then serves)
"""

from __future__ import annotations

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main(body_file: str, drip: str) -> None:
    body, pause = Path(body_file).read_bytes(), float(drip)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for start in range(0, len(body), 16):
                    self.wfile.write(body[start : start + 16])
                    time.sleep(pause)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
