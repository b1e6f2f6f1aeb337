"""The default virus scanner (moncompte.caf_requests.scanning.clamd_scan) against a local clamd:
a unix socket server in this test speaking clamd's INSTREAM protocol, as ClamAV does."""

import socket
import struct
import threading

import pytest

from moncompte.caf_requests.scanning import ScannerUnavailable, ScanResult, clamd_scan, scan
from tests.caf_requests.scanner import EICAR


class FakeClamd:
    """Answers INSTREAM like clamd: ``stream: OK``, ``stream: Eicar-Signature FOUND`` for a
    stream holding the EICAR string, or ``reply`` when set. Keeps what each scan received."""

    def __init__(self, path: str, reply: bytes | None = None):
        self.path, self.reply, self.received = path, reply, []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, connection, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                try:
                    assert self._read(connection, 10) == b"zINSTREAM\0"
                    content = b""
                    while True:
                        (size,) = struct.unpack("!L", self._read(connection, 4))
                        if size == 0:
                            break
                        content += self._read(connection, size)
                    self.received.append(content)
                    if self.reply is not None:
                        connection.sendall(self.reply)
                    elif EICAR in content:
                        connection.sendall(b"stream: Eicar-Signature FOUND\0")
                    else:
                        connection.sendall(b"stream: OK\0")
                except (ConnectionError, AssertionError):
                    pass

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def clamd(settings, tmp_path):
    path = str(tmp_path / "clamd.sock")
    settings.MONCOMPTE_CLAMD_SOCKET = path
    settings.MONCOMPTE_VIRUS_SCANNER = "moncompte.caf_requests.scanning.clamd_scan"
    settings.MONCOMPTE_CLAMD_TIMEOUT_SECONDS = 10
    server = FakeClamd(path)
    yield server
    server.close()


def test_a_clean_file_is_sent_whole_and_said_clean(clamd):
    content = bytes(range(256)) * 1000  # more than one chunk of 64 KiB
    assert scan(content) == ScanResult.clean("clamd: OK")
    assert clamd.received == [content]


def test_the_eicar_string_is_found(clamd):
    result = scan(b"%PDF-1.7\n" + EICAR)
    assert result.infected and result.signature == "Eicar-Signature" and result.scanned


@pytest.mark.parametrize("reply", [b"INSTREAM size limit exceeded. ERROR\0", b""], ids=["error", "no-answer"])
def test_a_clamd_that_does_not_scan_is_unavailable(clamd, reply):
    clamd.reply = reply
    with pytest.raises(ScannerUnavailable):
        scan(b"content")


def test_a_clamd_that_is_down_is_unavailable(settings, tmp_path):
    settings.MONCOMPTE_CLAMD_SOCKET = str(tmp_path / "absent.sock")
    with pytest.raises(ScannerUnavailable):
        clamd_scan(b"content")


def test_without_a_socket_nothing_is_scanned(settings):
    settings.MONCOMPTE_CLAMD_SOCKET = ""
    assert clamd_scan(EICAR) == ScanResult.not_scanned()


def test_the_scanner_check_refuses_a_scanner_that_cannot_be_imported(settings):
    from moncompte.caf_requests.checks import virus_scanner_check

    assert virus_scanner_check(None) == []
    settings.MONCOMPTE_VIRUS_SCANNER = "moncompte.caf_requests.scanning.no_such_scanner"
    assert [e.id for e in virus_scanner_check(None)] == ["caf_requests.E001"]
    settings.MONCOMPTE_VIRUS_SCANNER = "moncompte.caf_requests.scanning.DEFAULT_SCANNER"
    assert [e.id for e in virus_scanner_check(None)] == ["caf_requests.E002"]
