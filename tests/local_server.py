"""A throw-away HTTP server on 127.0.0.1 that answers every GET with the same bytes (for download tests)."""

from __future__ import annotations

import http.server
import threading


class Server(http.server.ThreadingHTTPServer):
    def shutdown(self) -> None:
        """Stop serving and close the listening socket (left open, it warns when collected, perhaps in another test)."""
        super().shutdown()
        self.server_close()


def serve(body: bytes) -> Server:
    """Start serving ``body`` on a free port; call ``.shutdown()`` when done."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
