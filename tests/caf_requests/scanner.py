"""The test suite's virus scanner (settings.MONCOMPTE_VIRUS_SCANNER in these tests): it flags
the EICAR test string, as every antivirus does, and calls every other file clean."""

from moncompte.caf_requests.scanning import ScannerUnavailable, ScanResult

# The standard antivirus test file (eicar.org), written in two halves so that no antivirus of a
# developer's machine quarantines this source file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SCANNER = "tests.caf_requests.scanner.scan"
DOWN = "tests.caf_requests.scanner.scanner_down"
NOT_A_RESULT = "tests.caf_requests.scanner.scanner_returning_nothing"


def scan(content: bytes) -> ScanResult:
    if EICAR in content:
        return ScanResult.infected_with("Eicar-Test-Signature", "scanner of the test suite: FOUND")
    return ScanResult.clean("scanner of the test suite: OK")


def scanner_down(content: bytes) -> ScanResult:
    raise ScannerUnavailable("down")


def scanner_returning_nothing(content: bytes):
    return None
