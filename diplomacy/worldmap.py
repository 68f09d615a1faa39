"""The world outline behind the coverage report's map of the diplomatic network.

``static/maps/world.svg`` holds one ``<path>`` per country (Natural Earth 1:110m, public domain;
see ``static/maps/SOURCE.md``). The report draws its own server-rendered, accessible SVG: it reads
the shapes from here, colours each country by the network's presence there and labels it in the
user's language (``data-name`` in the file is English only: translate with django_countries by
code, not by that name).

Codes are ISO 3166-1 alpha-2, plus ``XK`` for Kosovo. Areas without a code of their own (Northern
Cyprus, Somaliland) carry a ``ZZ-<slug>`` placeholder. Microstates and many small islands are too
small for the 1:110m outline and have no shape; Antarctica is left out.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

SVG_NS = "http://www.w3.org/2000/svg"
ID_PREFIX = "country-"
PLACEHOLDER_PREFIX = "ZZ-"


@dataclass(frozen=True, slots=True)
class CountryShape:
    """One country's outline: its code, English name and SVG path data (in the viewBox's units)."""

    code: str
    name: str
    d: str

    @property
    def is_placeholder(self) -> bool:
        """True for an area without an ISO code of its own, such as Northern Cyprus."""
        return self.code.startswith(PLACEHOLDER_PREFIX)


def world_svg_path() -> Path:
    """Where the shipped world outline lives."""
    return Path(settings.BASE_DIR) / "static" / "maps" / "world.svg"


@functools.cache
def _root() -> ET.Element:
    return ET.parse(world_svg_path()).getroot()  # noqa: S314 - trusted file shipped with the project


@functools.cache
def viewbox() -> str:
    """The outline's viewBox ("min-x min-y width height"): x is longitude, y is minus latitude."""
    return _root().attrib["viewBox"]


@functools.cache
def country_shapes() -> list[CountryShape]:
    """Every country shape of the outline, in the file's order (sorted by code).

    The list is cached for the life of the process: do not mutate it.
    """
    shapes: list[CountryShape] = []
    for path in _root().iter(f"{{{SVG_NS}}}path"):
        element_id = path.get("id", "")
        if not element_id.startswith(ID_PREFIX):
            continue
        shapes.append(
            CountryShape(
                code=element_id.removeprefix(ID_PREFIX),
                name=path.get("data-name", ""),
                d=path.get("d", ""),
            )
        )
    return shapes


@functools.cache
def _escaped_paths() -> list[tuple[str, str, str]]:
    """(code, escaped English name, escaped path data) per shape: the path data is most of the
    map's 150 KB, so it is escaped once per process, not on every page."""
    return [(shape.code, escape(shape.name), escape(shape.d)) for shape in country_shapes()]


def svg_paths(classes: dict[str, str], titles: dict[str, str], *, default_class: str = "") -> SafeString:
    """Every shape as ``<path d=… class=…><title>…</title></path>``, in the file's order.

    `classes` and `titles` give a country's CSS class and tooltip by code (titles are
    escaped here); a country without a class gets `default_class`, one without a title
    its English name.
    """
    return mark_safe(  # noqa: S308 - escaped above and here
        "".join(
            f'<path d="{d}" class="{escape(classes.get(code, default_class))}">'
            f"<title>{escape(titles[code]) if code in titles else name}</title></path>"
            for code, name, d in _escaped_paths()
        )
    )
