"""Images uploaded for publications: check them, strip them, re-encode them.

An upload is untrusted bytes. We accept it by content only (never by file name or
declared content type), refuse it before decoding when it is empty, too heavy or has too
many pixels, decode it fully (so a truncated file is caught), then copy its pixels into a
fresh image and re-encode that. Nothing of the original file survives: no EXIF (GPS), no
XMP, no colour profile, no JPEG comment, no PNG text, no bytes appended after the image.

Pure functions: the model that stores images calls `clean_image()` and `make_rendition()`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import threading
import warnings
from dataclasses import dataclass
from typing import Protocol

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")

RENDITIONS: dict[str, tuple[int, int]] = {
    "square": (1080, 1080),
    "landscape": (1200, 628),
    "portrait": (1080, 1350),
}
PLATFORM_RENDITION: dict[str, str] = {
    "facebook": "landscape",
    "x": "landscape",
    "linkedin": "landscape",
    "bluesky": "landscape",
    "mastodon": "landscape",
    "threads": "landscape",
    "youtube": "landscape",
    "instagram": "portrait",
}

JPEG_QUALITY = 88
_MB = 1024 * 1024
_ENCODINGS = {  # our output format -> (extension, content type)
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
}

# Pillow's own decompression-bomb guard is a process-wide setting (there is no per-call
# limit). Align it with ours so that Pillow refuses at `open()` what we would refuse.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# `warnings.catch_warnings()` and `ImageFile.LOAD_TRUNCATED_IMAGES` are process-wide state.
# Two threads decoding at once could restore each other's saved state and leave the
# "error" filter (or a truncated-images setting) behind. Uploads are rare: decode one at
# a time.
_DECODE_LOCK = threading.Lock()

# Formats people do upload and we do not accept, recognised so that the message can name
# them ("HEIC images are not accepted") instead of "this is not an image".
_OTHER_SIGNATURES = (
    (b"%PDF", "PDF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"8BPS", "PSD"),
)
_HEIF_BRANDS = {
    b"heic": "HEIC",
    b"heix": "HEIC",
    b"hevc": "HEIC",
    b"mif1": "HEIC",
    b"avif": "AVIF",
    b"avis": "AVIF",
}


class ImageRefused(ValueError):
    """An upload we will not use. `str(exc)` is the translated reason, `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CleanImage:
    content: bytes  # the re-encoded file
    format: str  # "JPEG" or "PNG": what we re-encoded to
    extension: str  # "jpg" / "png"
    content_type: str  # "image/jpeg" / "image/png"
    width: int
    height: int
    checksum: str  # sha256 hex of `content`


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def clean_image(data: bytes | _Readable) -> CleanImage:
    """Check an upload and return it re-encoded without metadata, or raise ImageRefused.

    `data` is bytes or a file-like object (a Django UploadedFile): it is read from the start,
    and its `size`, when it has one, is checked before anything is read.
    """
    raw = _read_limited(data)
    image = _decode(raw)
    return _encode(_strip(image))


def make_rendition(image: CleanImage, name: str) -> CleanImage:
    """Centre-crop `image` to the aspect of rendition `name` and scale it down to its size.

    A source smaller than the rendition is cropped to the aspect at its own resolution,
    never enlarged. Raises KeyError for an unknown rendition name.
    """
    width, height = RENDITIONS[name]
    # The CleanImage may have been rebuilt from storage: decode it with the same guards.
    source = _strip(_decode(image.content))
    scale = min(source.width / width, source.height / height)
    if scale >= 1:
        box_w, box_h = width * scale, height * scale
        left, top = (source.width - box_w) / 2, (source.height - box_h) / 2
        result = source.resize(
            (width, height),
            Image.Resampling.LANCZOS,
            box=(left, top, left + box_w, top + box_h),
            reducing_gap=3.0,
        )
    else:
        crop_w = min(source.width, max(1, round(width * scale)))
        crop_h = min(source.height, max(1, round(height * scale)))
        left, top = (source.width - crop_w) // 2, (source.height - crop_h) // 2
        result = source.crop((left, top, left + crop_w, top + crop_h))
    return _encode(_fresh_copy(result))


def accepted_formats_display() -> str:
    """The accepted formats as people know them, for messages and a form's help text."""
    return ", ".join("WebP" if name == "WEBP" else name for name in ACCEPTED_FORMATS)


# --- reading -------------------------------------------------------------------------------


def _read_limited(data: bytes | _Readable) -> bytes:
    declared: int | None
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        declared = len(raw)
    else:
        declared = getattr(data, "size", None)
        if isinstance(declared, int) and declared > MAX_BYTES:
            raise _too_large(declared)
        seek = getattr(data, "seek", None)
        if callable(seek):
            seek(0)
        # Never read more than one byte over the limit, whatever `size` claimed.
        raw = data.read(MAX_BYTES + 1)
    if not raw:
        raise ImageRefused("empty", _("The file is empty."))
    if len(raw) > MAX_BYTES:
        raise _too_large(max(len(raw), declared if isinstance(declared, int) else 0))
    return raw


# --- decoding ------------------------------------------------------------------------------


def _decode(raw: bytes) -> Image.Image:
    """Open untrusted bytes as one of ACCEPTED_FORMATS and decode the first frame fully."""
    with _DECODE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        load_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file must fail, not be padded
        try:
            image = Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS)
            # Our own check, before any pixel is decoded: Pillow's guard can be switched
            # off elsewhere in the process (MAX_IMAGE_PIXELS = None).
            if image.width * image.height > MAX_PIXELS:
                raise _too_many_pixels(image.width * image.height)
            # GIF, animated WebP and APNG open on their first frame; load() decodes only it.
            # verify() alone would pass a truncated file: load() decodes every byte.
            image.load()
            return ImageOps.exif_transpose(image)
        except UnidentifiedImageError:
            raise _unsupported(raw) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(_pixels_in_message(str(exc))) from None
        except ImageRefused:
            raise
        except Exception as exc:
            # Pillow's parsers fail on hostile or damaged input with many exception types
            # (OSError, SyntaxError, ValueError, EOFError, struct.error...): any of them
            # means we cannot use these bytes.
            logger.info("Refused a damaged image: %r", exc)
            raise ImageRefused(
                "corrupt",
                _(
                    "The image is damaged or incomplete (perhaps the upload was interrupted). "
                    "Please export it again and upload the new file."
                ),
            ) from exc
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated


def _pixels_in_message(message: str) -> int | None:
    # Pillow refuses at open() before we see the image; its message is the only place
    # that holds the size ("Image size (200000000 pixels) exceeds limit ...").
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match.group(1)) if match else None


# --- stripping and encoding ----------------------------------------------------------------


def _strip(image: Image.Image) -> Image.Image:
    """Return the pixels in sRGB, as RGB or RGBA, in a new image that carries no metadata."""
    return _fresh_copy(_to_rgb_or_rgba(_to_srgb(image)))


def _to_srgb(image: Image.Image) -> Image.Image:
    # The embedded colour profile is dropped with the rest of the metadata; convert to sRGB
    # first, or a Display P3 photo (iPhones) or a CMYK print file changes colour.
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    output_mode = "RGB" if image.mode == "CMYK" else image.mode
    try:
        converted = ImageCms.profileToProfile(image, io.BytesIO(icc), _srgb_profile(), outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        logger.info("Ignored an unusable colour profile: %r", exc)
        return image
    return converted if converted is not None else image


_SRGB: ImageCms.ImageCmsProfile | None = None


def _srgb_profile() -> ImageCms.ImageCmsProfile:
    global _SRGB  # built once: it never changes
    if _SRGB is None:
        _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return _SRGB


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    if image.mode.startswith("I"):
        # 16-bit greyscale: convert("L") would clip everything above 255 to white.
        image = image.point(lambda value: value / 256, "L")
    transparent = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not transparent:
        return image if image.mode == "RGB" else image.convert("RGB")
    image = image if image.mode == "RGBA" else image.convert("RGBA")
    low_alpha, _high = image.getchannel("A").getextrema()
    if low_alpha == 255:  # an alpha channel that hides nothing: a photo, so a JPEG
        return image.convert("RGB")
    return image


def _fresh_copy(image: Image.Image) -> Image.Image:
    # A re-save of the decoded image keeps what Pillow put in `.info` (the PNG writer reuses
    # its colour profile, exif_transpose keeps the rest of the EXIF): a new image has none.
    fresh = Image.new(image.mode, image.size)
    fresh.paste(image)
    return fresh


def _encode(image: Image.Image) -> CleanImage:
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        output_format = "PNG"
        image.save(buffer, output_format, optimize=True)
    else:
        output_format = "JPEG"
        image.convert("RGB").save(
            buffer, output_format, quality=JPEG_QUALITY, progressive=True, optimize=True
        )
    content = buffer.getvalue()
    extension, content_type = _ENCODINGS[output_format]
    return CleanImage(
        content=content,
        format=output_format,
        extension=extension,
        content_type=content_type,
        width=image.width,
        height=image.height,
        checksum=hashlib.sha256(content).hexdigest(),
    )


# --- messages ------------------------------------------------------------------------------


def _above(value: float) -> str:
    """`value` rounded up to one decimal (20 MB + 1 byte reads "20.1", not "20.0")."""
    rounded = math.ceil(value * 10) / 10
    return number_format(rounded, decimal_pos=0 if rounded.is_integer() else 1)


def _too_large(size: int) -> ImageRefused:
    return ImageRefused(
        "too_large",
        _("The file is %(size)s MB; the limit is %(limit)s MB.")
        % {"size": _above(size / _MB), "limit": number_format(MAX_BYTES // _MB)},
    )


def _too_many_pixels(pixels: int | None) -> ImageRefused:
    limit = number_format(MAX_PIXELS // 1_000_000)
    if pixels is None:
        message = _("The image has too many pixels; the limit is %(limit)s megapixels.") % {"limit": limit}
    else:
        message = _(
            "The image is %(megapixels)s megapixels; the limit is %(limit)s megapixels. "
            "Please reduce its dimensions and upload it again."
        ) % {"megapixels": _above(pixels / 1_000_000), "limit": limit}
    return ImageRefused("too_many_pixels", message)


def _unsupported(raw: bytes) -> ImageRefused:
    other = _recognise_other_format(raw)
    if other is None:
        return ImageRefused(
            "not_an_image",
            _("This file is not an image we can read. Accepted formats: %(formats)s.")
            % {"formats": accepted_formats_display()},
        )
    return ImageRefused(
        "format",
        _("%(format)s files are not accepted. Accepted formats: %(formats)s.")
        % {"format": other, "formats": accepted_formats_display()},
    )


def _recognise_other_format(raw: bytes) -> str | None:
    for signature, name in _OTHER_SIGNATURES:
        if raw.startswith(signature):
            return name
    if raw[4:8] == b"ftyp" and raw[8:12] in _HEIF_BRANDS:
        return _HEIF_BRANDS[raw[8:12]]
    if b"<svg" in raw[:4096].lower():
        return "SVG"
    return None
