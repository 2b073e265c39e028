"""uvicorn's HTTP protocol with a limit on request headers: over 64 KiB is a 431, answered
before the rest is read, so a client cannot make a worker buffer headers without end."""

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024
END_OF_HEADERS = b"\r\n\r\n"
TOO_LARGE = json.dumps({"message": "Request headers are larger than 64 KiB"}).encode()
RESPONSE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(TOO_LARGE)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + TOO_LARGE
)


class HeaderLimitedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the bytes of each request up to the blank line that ends its headers."""

    _header_bytes = 0
    _in_headers = True
    _tail = b""
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_headers and self._over_limit(data):
            self._refused = True
            self.transport.write(RESPONSE)
            self.transport.close()
            return
        super().data_received(data)

    def _over_limit(self, data: bytes) -> bool:
        window = self._tail + data
        end = window.find(END_OF_HEADERS)
        counted = len(data) if end < 0 else max(end + len(END_OF_HEADERS) - len(self._tail), 0)
        self._header_bytes += counted
        self._tail = window[-3:]
        return self._header_bytes > MAX_HEADER_BYTES

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # The next bytes on this connection are the next request's headers.
        self._in_headers, self._header_bytes, self._tail = True, 0, b""
