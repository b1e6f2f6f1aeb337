"""Decoding an identity document and writing the copy that is stored: pure work on bytes.

``rewrite(data, content_type, limits)`` returns the copy to store or raises ``Refused(code)``;
moncompte.identity.documents runs it in a child process of its own (``child_main``) under CPU
and memory limits, and turns the code into a French sentence. This module imports neither
Django nor the rest of the project, so that the child starts with Pillow and pypdf only.

- **Images** (JPEG, PNG): opened by Pillow restricted to the detected format; the dimensions
  read from the header are checked against ``limits.max_pixels`` before a single pixel is
  decoded (the child also sets Pillow's ``Image.MAX_IMAGE_PIXELS`` to that limit and makes its
  ``DecompressionBombWarning`` an error: a process of its own, so no other request sees it); a
  JPEG with more than ``_JPEG_MAX_SCANS`` scans is refused (each progressive scan decodes the
  whole picture again). Then fully decoded (a truncated file is refused), turned upright from
  its EXIF orientation, and re-encoded (JPEG quality 90, PNG) without any metadata: no EXIF (no
  GPS position, no camera serial), no XMP, no ICC profile, no comment, no text chunk; the first
  frame only.
- **PDFs**: read by pypdf under its configuration limits (``pypdf.apply_configuration``);
  encrypted files are refused; at most ``limits.max_pages`` pages; every dictionary and array
  of the file is walked (at most ``_PDF_MAX_OBJECTS``) and **active content anywhere refuses
  it**: JavaScript (``/JS``, ``/JavaScript``), additional actions (``/AA``), an ``/OpenAction``
  other than a plain destination, the actions Launch, SubmitForm, ImportData, GoToR, GoToE,
  Rendition, Movie, Sound, RichMediaExecute and GoTo3DView, embedded files (``/EmbeddedFiles``,
  ``/EF``), XFA forms, file attachment, rich media, 3D, screen, movie and sound annotations.
  The copy is **written anew** by pypdf from the pages only (content, resources, boxes,
  rotation): no annotation, link or form field, no outline, no document metadata, no catalog
  entry. Every stream of the copy is then decompressed once within ``_PDF_MAX_DECODED_BYTES``
  in total, counted slice by slice without keeping the output (a 10 MiB bomb that inflates to
  gigabytes stops at the budget); every image in it has at most ``limits.max_pixels`` pixels
  (its declared size and the header of its JPEG or JPEG 2000 data); the content of pages and
  forms is parsed (``_PDF_MAX_PARSE_WORK`` operators and operands in total; inline images
  checked like the others). What agents open is what was parsed here.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import warnings
import zlib
from dataclasses import asdict, dataclass

import pypdf
from PIL import Image, ImageOps
from pypdf.filters import ASCII85Decode, ASCIIHexDecode, LZWDecode, RunLengthDecode
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    StreamObject,
)

__all__ = ["PDF", "JPEG", "PNG", "Limits", "Refused", "child_main", "rewrite"]

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"

# Images.
_JPEG_QUALITY = 90
# A progressive JPEG decodes the whole picture once per scan: encoders write about ten.
_JPEG_MAX_SCANS = 100
_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "P", "RGB", "RGBA"})

# PDFs: each count bounds memory and time; the child's CPU limit bounds what counts cannot see.
_PDF_MAX_OBJECTS = 50_000  # dictionaries and arrays walked, in the file, then in the copy
_PDF_MAX_DECODED_BYTES = 256 * 1024 * 1024  # every stream of the copy decompressed, in total
_PDF_MAX_CONTENT_BYTES = 32 * 1024 * 1024  # content of pages and forms decompressed, kept to be parsed
_PDF_MAX_PARSE_WORK = 1_000_000  # operators and operands of that content, in total
_PDF_MAX_SLOW_DECODE_BYTES = 16 * 1024 * 1024  # LZW and RunLength output of one stream (pure Python)
_PDF_MAX_READER_STREAM_BYTES = 32 * 1024 * 1024  # what pypdf inflates for itself (object, xref streams)
_PDF_MAX_FILTERS = 4  # filters of one stream (real files use one or two)
_PDF_CODEC_HEAD_BYTES = 1024 * 1024  # of JPEG or JPEG 2000 data: enough to hold its header
_INFLATE_SLICE = 1024 * 1024
# What a page keeps: its content and what the content needs; everything else is dropped.
_PDF_PAGE_KEYS = frozenset(
    {
        "/Type",
        "/Resources",
        "/MediaBox",
        "/CropBox",
        "/BleedBox",
        "/TrimBox",
        "/ArtBox",
        "/Contents",
        "/Rotate",
        "/Group",
        "/UserUnit",
    }
)
_PDF_ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EF", "/XFA", "/RichMediaContent", "/RichMediaSettings"}
)
_PDF_ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/Rendition",
        "/Movie",
        "/Sound",
        "/RichMediaExecute",
        "/GoTo3DView",
    }
)
_PDF_ACTIVE_SUBTYPES = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"})
_FLATE = frozenset({"/FlateDecode", "/Fl"})
_LZW = frozenset({"/LZWDecode", "/LZW"})
_RUN_LENGTH = frozenset({"/RunLengthDecode", "/RL"})
_ASCII_HEX = frozenset({"/ASCIIHexDecode", "/AHx"})
_ASCII_85 = frozenset({"/ASCII85Decode", "/A85"})
# Image codecs: not decoded here (the pixel count is checked instead); always last in a chain.
_DCT = frozenset({"/DCTDecode", "/DCT"})
_JPX = frozenset({"/JPXDecode"})
_IMAGE_CODECS = _DCT | _JPX | {"/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}

# The child's answer on its standard output: the copy (exit 0), or a refusal as JSON (exit 3).
REFUSED_EXIT = 3


@dataclass(frozen=True)
class Limits:
    max_pixels: int
    max_pages: int
    max_bytes: int


class Refused(Exception):  # noqa: N818  (a refusal, not a failure of ours)
    """``code``: unreadable, too_many_pixels, too_complex, encrypted, too_many_pages,
    active_content. ``cause``: the class of the exception behind it, for the log."""

    def __init__(self, code: str, cause: str = ""):
        super().__init__(code)
        self.code = code
        self.cause = cause


def rewrite(data: bytes, content_type: str, limits: Limits) -> bytes:
    """The copy to store of ``data`` (whose first bytes said ``content_type``); raises Refused.

    Any exception of a parser on hostile bytes becomes a refusal (a parser's message may quote
    the file: only its class is kept)."""
    try:
        if content_type == PDF:
            return _rewrite_pdf(data, limits)
        if content_type in (JPEG, PNG):
            return _rewrite_image(data, content_type, limits)
        raise Refused("unreadable")
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exception:
        raise Refused("too_many_pixels", type(exception).__name__) from None
    except (pypdf.errors.LimitReachedError, MemoryError, RecursionError) as exception:
        raise Refused("too_complex", type(exception).__name__) from None
    except Exception as exception:  # noqa: BLE001  (Pillow, pypdf, zlib, struct...: all refusals)
        raise Refused("unreadable", type(exception).__name__) from None


def child_main() -> None:
    """The child process: limits from ``argv[1]`` (JSON), the file on standard input."""
    import resource  # noqa: PLC0415  (POSIX only, and only the child needs it)

    request = json.loads(sys.argv[1])
    cpu, memory = int(request.pop("cpu_seconds")), int(request.pop("memory_bytes"))
    content_type = request.pop("content_type")
    limits = Limits(**request)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # then SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))  # then MemoryError
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # writes no file (the answer goes to a pipe)
    # Process-wide settings are safe here: this process parses one file and ends.
    logging.disable(logging.CRITICAL)  # pypdf's warnings may quote the file
    warnings.simplefilter("ignore")
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    # The answer goes to the standard output as it was; anything a library prints goes to stderr.
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    data = sys.stdin.buffer.read(limits.max_bytes + 1)
    try:
        if len(data) > limits.max_bytes:
            raise Refused("too_complex")
        content = rewrite(data, content_type, limits)
    except Refused as refusal:
        answer.write(json.dumps({"code": refusal.code, "cause": refusal.cause}).encode())
        answer.flush()
        sys.exit(REFUSED_EXIT)
    answer.write(content)
    answer.flush()


def child_request(content_type: str, limits: Limits, *, cpu_seconds: int, memory_bytes: int) -> str:
    """``argv[1]`` of the child."""
    return json.dumps(
        {**asdict(limits), "content_type": content_type, "cpu_seconds": cpu_seconds, "memory_bytes": memory_bytes}
    )


# Images -------------------------------------------------------------------------------------


def _rewrite_image(data: bytes, content_type: str, limits: Limits) -> bytes:
    jpeg = content_type == JPEG
    # Restricted to the detected format: a file is read by the decoder its first bytes name.
    with Image.open(io.BytesIO(data), formats=["JPEG"] if jpeg else ["PNG"]) as image:
        # Only the header has been read: the size is checked before a single pixel is decoded.
        width, height = image.size
        if width <= 0 or height <= 0:
            raise Refused("unreadable")
        if width * height > limits.max_pixels:
            raise Refused("too_many_pixels")
        if jpeg and data.count(b"\xff\xda") > _JPEG_MAX_SCANS:  # start-of-scan markers
            raise Refused("too_complex")
        image.load()  # the whole picture: a truncated or corrupt file raises here
        transparency = image.info.get("transparency")
        try:
            ImageOps.exif_transpose(image, in_place=True)
        except Exception:  # noqa: BLE001, S110  (a broken EXIF block is no reason to refuse the picture)
            pass
        picture = image
        if jpeg:
            if picture.mode not in ("L", "RGB", "CMYK"):
                picture = picture.convert("RGB")
        elif picture.mode not in _PNG_MODES:
            picture = picture.convert("RGBA")
        # Nothing of the original's metadata is written: Pillow copies some of .info when saving
        # (the JPEG comment, PNG's ICC profile); the rest is written only when passed.
        picture.info = {}
        options: dict = {"quality": _JPEG_QUALITY} if jpeg else {}
        if not jpeg and transparency is not None and picture.mode in ("1", "L", "I", "I;16", "P", "RGB"):
            options["transparency"] = transparency
        out = io.BytesIO()
        picture.save(out, format="JPEG" if jpeg else "PNG", **options)
        return out.getvalue()


# PDFs ---------------------------------------------------------------------------------------


class _Budget:
    """What is left to spend on one PDF; spending past zero refuses it as too complex."""

    def __init__(self) -> None:
        self.objects = _PDF_MAX_OBJECTS
        self.decoded = _PDF_MAX_DECODED_BYTES
        self.content = _PDF_MAX_CONTENT_BYTES
        self.parse = _PDF_MAX_PARSE_WORK

    def spend(self, what: str, amount: int) -> None:
        left = getattr(self, what) - amount
        setattr(self, what, left)
        if left < 0:
            raise Refused("too_complex")


def _resolved(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def _reader_limits(limits: Limits) -> dict:
    """pypdf's own limits while it reads the file (object streams, cross-reference streams, page tree)."""
    return {
        "maximum_declared_stream_length": limits.max_bytes,
        "zlib_maximum_output_length": _PDF_MAX_READER_STREAM_BYTES,
        "zlib_maximum_recovery_input_length": 0,  # no byte-by-byte retry of a broken stream (slow)
        "lzw_maximum_output_length": _PDF_MAX_SLOW_DECODE_BYTES,
        "run_length_maximum_output_length": _PDF_MAX_SLOW_DECODE_BYTES,
        "brotli_maximum_output_length": _PDF_MAX_READER_STREAM_BYTES,
        "array_based_stream_maximum_output_length": _PDF_MAX_READER_STREAM_BYTES,
        "stream_decoding_work_maximum_length": 2 * _PDF_MAX_READER_STREAM_BYTES,
        "page_tree_maximum_entries": 10 * limits.max_pages + 100,
        "page_tree_maximum_page_entries": 10 * limits.max_pages + 100,
        "jbig2dec_binary": None,  # never start a program
        "disable_legacy_handling": True,
    }


def _rewrite_pdf(data: bytes, limits: Limits) -> bytes:
    with pypdf.apply_configuration(**_reader_limits(limits)):
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Refused("encrypted")
        try:
            pages = list(reader.pages)
        except pypdf.errors.LimitReachedError:
            raise Refused("too_many_pages") from None
        if len(pages) > limits.max_pages:
            raise Refused("too_many_pages")
        if not pages:
            raise Refused("unreadable")
        budget = _Budget()
        # The whole file first: anything active anywhere refuses it, whether the copy keeps it or not.
        _walk(reader.trailer.raw_get("/Root"), budget)

        # The copy: the pages, each with its content, resources and boxes only.
        writer = pypdf.PdfWriter()
        for page in pages:
            writer.add_page(page, excluded_keys=[key for key in page if key not in _PDF_PAGE_KEYS])
        # Then what will be stored: every stream of it decoded once, under the budget.
        contents = [_page_content_streams(page) for page in writer.pages]
        page_streams = {key for streams in contents for key, _ in streams}
        budget.objects = _PDF_MAX_OBJECTS
        _walk(
            writer.root_object,
            budget,
            on_stream=lambda key, stream: _check_stream(key, stream, page_streams, budget, limits),
        )
        for streams in contents:
            _parse_content([stream for _, stream in streams], budget, limits)
        out = io.BytesIO()
        writer.write(out)
        content = out.getvalue()
        # What is stored opens as a PDF of these pages.
        if len(pypdf.PdfReader(io.BytesIO(content), strict=False).pages) != len(pages):
            raise Refused("unreadable")
        return content


def _walk(start, budget: _Budget, *, on_stream=None) -> None:
    """Every dictionary and array reachable from ``start``, each indirect object once, without
    recursion; refuses active content; ``on_stream(key, stream)`` for each stream."""
    seen: set[tuple[int, int]] = set()
    stack = [start]
    while stack:
        value = stack.pop()
        key = None
        if isinstance(value, IndirectObject):
            key = (value.idnum, value.generation)
            if key in seen:
                continue
            seen.add(key)
            value = value.get_object()
        if isinstance(value, DictionaryObject):
            budget.spend("objects", 1)
            for name, item in value.items():
                if name in _PDF_ACTIVE_KEYS:
                    raise Refused("active_content")
                if name == "/S" and _resolved(item) in _PDF_ACTIVE_ACTIONS:
                    raise Refused("active_content")
                if name == "/Subtype" and _resolved(item) in _PDF_ACTIVE_SUBTYPES:
                    raise Refused("active_content")
                if name == "/OpenAction" and not _plain_destination(_resolved(item)):
                    raise Refused("active_content")
                stack.append(item)
            if on_stream is not None and isinstance(value, StreamObject):
                on_stream(key, value)
        elif isinstance(value, ArrayObject):
            budget.spend("objects", 1)
            stack.extend(value)


def _plain_destination(value) -> bool:
    """An /OpenAction that only opens a page: a destination, or a GoTo action to one."""
    if isinstance(value, ArrayObject):
        return True
    return isinstance(value, DictionaryObject) and _resolved(value.get("/S")) == "/GoTo" and "/Next" not in value


def _page_content_streams(page) -> list[tuple[tuple[int, int] | None, StreamObject]]:
    contents = page.get("/Contents")
    if contents is None:
        return []
    items = _resolved(contents)
    items = list(items) if isinstance(items, ArrayObject) else [contents]
    streams = []
    for item in items:
        stream = _resolved(item)
        if not isinstance(stream, StreamObject):
            raise Refused("unreadable")
        key = (item.idnum, item.generation) if isinstance(item, IndirectObject) else None
        streams.append((key, stream))
    return streams


def _filter_chain(stream: StreamObject) -> list[tuple[str, DictionaryObject | None]]:
    filters = _resolved(stream.get("/Filter"))
    if filters is None:
        return []
    if not isinstance(filters, ArrayObject):
        filters = [filters]
    if len(filters) > _PDF_MAX_FILTERS:
        raise Refused("unreadable")
    parameters = _resolved(stream.get("/DecodeParms"))
    if not isinstance(parameters, ArrayObject):
        parameters = [parameters] * len(filters)
    chain = []
    for index, name in enumerate(filters):
        params = _resolved(parameters[index]) if index < len(parameters) else None
        chain.append((str(_resolved(name)), params if isinstance(params, DictionaryObject) else None))
    return chain


def _decode(stream: StreamObject, budget: _Budget, *, keep: bool) -> tuple[bytes, str | None]:
    """The stream's bytes decoded up to its image codec, and the codec's name (None if none).

    Every decompressed byte is spent from the budget. The output is kept only where it is
    needed: ``keep`` (content to parse), the input of the next filter, or the head of the data
    an image codec reads its size from."""
    chain = _filter_chain(stream)
    data = stream._data  # the encoded bytes (pypdf has no public accessor for them)
    for index, (name, params) in enumerate(chain):
        following = chain[index + 1][0] if index + 1 < len(chain) else None
        if name in _IMAGE_CODECS:
            if following is not None:
                raise Refused("unreadable")
            return data, name
        if name in _FLATE:
            predictor = _resolved(params.get("/Predictor")) if params is not None else None
            if following is None and not keep:
                data = _inflate(data, budget, keep=0)
            elif following in _DCT or following in _JPX:
                data = _inflate(data, budget, keep=_PDF_CODEC_HEAD_BYTES)
            elif following in _IMAGE_CODECS:
                data = _inflate(data, budget, keep=0)
            elif predictor not in (None, 1):
                # Predicted bytes are pixels: never content, nor the input of another filter.
                raise Refused("unreadable")
            else:
                data = _inflate(data, budget, keep=_PDF_MAX_CONTENT_BYTES, whole=True)
        elif name in _LZW:
            limit = min(_PDF_MAX_SLOW_DECODE_BYTES, budget.decoded + 1)
            with pypdf.apply_configuration(lzw_maximum_output_length=limit):
                data = LZWDecode.decode(data, params)
            budget.spend("decoded", len(data))
        elif name in _RUN_LENGTH:
            limit = min(_PDF_MAX_SLOW_DECODE_BYTES, budget.decoded + 1)
            with pypdf.apply_configuration(run_length_maximum_output_length=limit):
                data = RunLengthDecode.decode(data, params)
            budget.spend("decoded", len(data))
        elif name in _ASCII_HEX:
            data = ASCIIHexDecode.decode(data, params)
            budget.spend("decoded", len(data))
        elif name in _ASCII_85:
            data = ASCII85Decode.decode(data, params)
            budget.spend("decoded", len(data))
        else:
            raise Refused("unreadable")  # an unknown or unsupported filter (Crypt, a name of its own...)
    return data, None


def _inflate(data: bytes, budget: _Budget, *, keep: int, whole: bool = False) -> bytes:
    """zlib data decompressed slice by slice, each slice spent from the budget before the next
    is made: a bomb stops at the budget, and memory stays at one slice beyond the first ``keep``
    bytes, which are returned. ``whole``: more than ``keep`` bytes refuses the file instead."""
    decompressor = zlib.decompressobj()
    kept = bytearray()
    produced = 0
    pending = data
    while pending and not decompressor.eof:
        piece = decompressor.decompress(pending, _INFLATE_SLICE)
        budget.spend("decoded", len(piece))
        produced += len(piece)
        if whole and produced > keep:
            raise Refused("too_complex")
        if len(kept) < keep:
            kept += piece[: keep - len(kept)]
        pending = decompressor.unconsumed_tail
    return bytes(kept)


def _dimension(dictionary, *names: str) -> int:
    for name in names:
        value = _resolved(dictionary.get(name))
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or value != int(value):
            raise Refused("unreadable")
        return int(value)
    raise Refused("unreadable")


def _check_pixels(width: int, height: int, limits: Limits) -> None:
    if width * height > limits.max_pixels:
        raise Refused("too_many_pixels")


def _check_stream(key, stream: StreamObject, page_streams: set, budget: _Budget, limits: Limits) -> None:
    """One stream of the copy: decompressed under the budget, an image within the pixel limit,
    a form's content parsed. Page content is parsed page by page (``_parse_content``)."""
    if key is not None and key in page_streams:
        return
    subtype = _resolved(stream.get("/Subtype"))
    if subtype == "/Form":
        _parse_content([stream], budget, limits)
        return
    if subtype == "/Image":
        _check_pixels(_dimension(stream, "/Width"), _dimension(stream, "/Height"), limits)
    data, codec = _decode(stream, budget, keep=False)
    if codec in _DCT or codec in _JPX:
        # The decoder sizes its output from the image data's own header, not from /Width.
        with Image.open(io.BytesIO(data), formats=["JPEG"] if codec in _DCT else ["JPEG2000"]) as picture:
            _check_pixels(*picture.size, limits)


def _parse_content(streams: list[StreamObject], budget: _Budget, limits: Limits) -> None:
    """Content (a page's streams, or a form), decoded and parsed: every operator read, every
    inline image within the pixel limit."""
    parts = []
    for stream in streams:
        data, codec = _decode(stream, budget, keep=True)
        if codec is not None:
            raise Refused("unreadable")
        budget.spend("content", len(data))
        parts.append(data)
    holder = DecodedStreamObject()
    holder.set_data(b"\n".join(parts))
    with pypdf.apply_configuration(stream_parsing_work_maximum_count=max(1, budget.parse)):
        operations = ContentStream(holder, None).operations
    for operands, operator in operations:
        budget.spend("parse", 1 + len(operands) if isinstance(operands, list) else 2)
        if operator == b"INLINE IMAGE":
            image_settings = operands.get("settings") or {}
            width = _dimension(image_settings, "/W", "/Width")
            height = _dimension(image_settings, "/H", "/Height")
            _check_pixels(width, height, limits)
