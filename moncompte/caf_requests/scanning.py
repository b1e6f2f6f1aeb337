"""The virus-scan hook of the files sent in answer to the Caf's requests.

``settings.MONCOMPTE_VIRUS_SCANNER`` is the dotted path of a callable ``scan(content: bytes) ->
ScanResult``; it is called on every file, as it arrived, before anything is stored. The default,
``clamd_scan``, sends the file to ClamAV's daemon when ``settings.MONCOMPTE_CLAMD_SOCKET`` is set
(the INSTREAM command of clamd, the one ``clamdscan --stream`` uses: the file goes over the
socket, no temporary file is shared) and otherwise records "not scanned". A scanner that cannot
answer raises ``ScannerUnavailable``: the file is then refused ("try again in a few minutes"),
never stored unscanned behind the operators' back.
"""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

__all__ = ["ScanResult", "ScannerUnavailable", "clamd_scan", "scan", "scanner"]

logger = logging.getLogger(__name__)

DEFAULT_SCANNER = "moncompte.caf_requests.scanning.clamd_scan"
_CHUNK = 64 * 1024
_MAX_REPLY = 4096


class ScannerUnavailable(Exception):  # noqa: N818  (the scanner's state, not our failure)
    """The scanner could not give an answer (down, timed out, refused the file)."""


@dataclass(frozen=True)
class ScanResult:
    """What a scanner says of one file. ``scanned`` False: nothing looked at it (no scanner
    configured). ``signature``: what was found, when ``infected``. ``detail``: the scanner's own
    words, kept with a stored file for the agents ("clamd: OK")."""

    scanned: bool
    infected: bool = False
    signature: str = ""
    detail: str = ""

    @classmethod
    def clean(cls, detail: str = "") -> ScanResult:
        return cls(scanned=True, detail=detail)

    @classmethod
    def not_scanned(cls) -> ScanResult:
        return cls(scanned=False)

    @classmethod
    def infected_with(cls, signature: str, detail: str = "") -> ScanResult:
        return cls(scanned=True, infected=True, signature=signature, detail=detail)


def scanner() -> Callable[[bytes], ScanResult]:
    return import_string(getattr(settings, "MONCOMPTE_VIRUS_SCANNER", "") or DEFAULT_SCANNER)


def scan(content: bytes) -> ScanResult:
    """The configured scanner's answer; raises ScannerUnavailable when it has none."""
    try:
        result = scanner()(content)
    except ScannerUnavailable:
        raise
    except Exception as error:  # noqa: BLE001  (a scanner's bug must not store an unscanned file)
        logger.error("virus scanner failed: %s", type(error).__name__)
        raise ScannerUnavailable(type(error).__name__) from error
    if not isinstance(result, ScanResult):
        logger.error("virus scanner returned %s, not a ScanResult", type(result).__name__)
        raise ScannerUnavailable("not a ScanResult")
    return result


# ClamAV ------------------------------------------------------------------------------------


def _connect(address: str, timeout: float) -> socket.socket:
    """A unix socket path ("/run/clamav/clamd.ctl") or a TCP "host:port" ("127.0.0.1:3310")."""
    if address.startswith("/"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = address
    else:
        host, _, port = address.rpartition(":")
        connection = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        target = (host.strip("[]"), int(port))
    connection.settimeout(timeout)
    try:
        connection.connect(target)
    except BaseException:
        connection.close()
        raise
    return connection


def clamd_scan(content: bytes) -> ScanResult:
    """Scan ``content`` with clamd (``MONCOMPTE_CLAMD_SOCKET``), or say nothing scanned it.

    Protocol (clamd(8)): ``zINSTREAM\\0``, then the file in chunks each preceded by its length
    on 4 bytes (network order), then a zero length; clamd answers ``stream: OK``,
    ``stream: <signature> FOUND`` or ``... ERROR``, ended by ``\\0``."""
    address = getattr(settings, "MONCOMPTE_CLAMD_SOCKET", "")
    if not address:
        return ScanResult.not_scanned()
    timeout = float(getattr(settings, "MONCOMPTE_CLAMD_TIMEOUT_SECONDS", 30.0))
    try:
        with _connect(address, timeout) as connection:
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(content), _CHUNK):
                chunk = content[start : start + _CHUNK]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0") and len(reply) < _MAX_REPLY:
                received = connection.recv(_MAX_REPLY)
                if not received:
                    break
                reply += received
    except (OSError, ValueError) as error:
        logger.error("clamd unavailable: %s", type(error).__name__)
        raise ScannerUnavailable(type(error).__name__) from error
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    verdict = answer.partition(": ")[2] if answer.startswith("stream: ") else answer
    if verdict == "OK":
        return ScanResult.clean("clamd: OK")
    if verdict.endswith(" FOUND"):
        signature = verdict.removesuffix(" FOUND").strip()[:100]
        return ScanResult.infected_with(signature, f"clamd: {signature} FOUND")
    logger.error("clamd did not scan the file: %s", answer[:200])
    raise ScannerUnavailable("clamd error")
