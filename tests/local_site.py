"""A real HTTP server on 127.0.0.1 serving fixed pages, for the tests that fetch web pages and
feeds: ``{path: (status, content type, body)}``; every path asked for is appended to ``requests``."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Pages = dict[str, tuple[int, str, str | bytes]]


@contextlib.contextmanager
def serving_pages(pages: Pages, requests: list[str] | None = None) -> Iterator[str]:
    """The server's address while the block runs. ``/slow`` answers after 3 s; a path not in
    ``pages`` is a 404. ``pages`` is read at each request, so a test may change it."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if requests is not None:
                requests.append(self.path)
            if self.path == "/slow":
                time.sleep(3)
            status, kind, body = pages.get(self.path, (404, "text/html", "<h1>Not found</h1>"))
            data = body if isinstance(body, bytes) else body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # citeqa stops reading a page over the size limit, as it should: the write then fails.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
