"""The shipped world outline: it parses, covers the world's countries and is safe to inline."""

import re
import xml.etree.ElementTree as ET

import pytest
from django_countries import countries

from diplomacy.worldmap import CountryShape, country_shapes, viewbox, world_svg_path

MAX_BYTES = 400 * 1024


@pytest.fixture(scope="module")
def svg_text() -> str:
    return world_svg_path().read_text(encoding="utf-8")


def test_the_file_is_small():
    assert world_svg_path().stat().st_size < MAX_BYTES


def test_the_file_parses_and_has_a_viewbox(svg_text):
    root = ET.fromstring(svg_text)  # noqa: S314 - trusted file shipped with the project
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    numbers = [float(part) for part in viewbox().split()]
    assert len(numbers) == 4
    min_x, min_y, width, height = numbers
    assert min_x >= -180 and min_x + width <= 180
    # Antarctica is left out: nothing south of 60 degrees south (y is minus latitude).
    assert min_y >= -90 and min_y + height <= 60


def test_there_is_a_shape_for_most_countries():
    shapes = country_shapes()
    assert len(shapes) >= 170
    assert all(isinstance(shape, CountryShape) for shape in shapes)
    assert all(shape.name and shape.d.startswith("M") for shape in shapes)


def test_codes_are_unique():
    codes = [shape.code for shape in country_shapes()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("code", ["BE", "NL", "FR", "DE", "TR", "US", "CN", "BR", "ZA", "RU", "XK"])
def test_the_main_countries_have_a_shape(code):
    assert code in {shape.code for shape in country_shapes()}


def test_every_code_but_the_placeholders_is_a_known_country():
    unknown = [
        shape.code for shape in country_shapes() if not shape.is_placeholder and shape.code not in countries
    ]
    assert unknown == []


def test_placeholders_are_slugs():
    for shape in country_shapes():
        if shape.is_placeholder:
            assert re.fullmatch(r"ZZ-[a-z0-9]+(-[a-z0-9]+)*", shape.code)


def test_antarctica_is_left_out():
    assert "AQ" not in {shape.code for shape in country_shapes()}


def test_no_script_no_event_handler_no_external_reference(svg_text):
    root = ET.fromstring(svg_text)  # noqa: S314 - trusted file shipped with the project
    assert "<script" not in svg_text.lower()
    for element in root.iter():
        local_tag = element.tag.rsplit("}", 1)[-1].lower()
        assert local_tag not in {"script", "style", "foreignobject", "image", "use", "a"}
        for attribute in element.attrib:
            local_name = attribute.rsplit("}", 1)[-1].lower()
            assert not local_name.startswith("on"), attribute
            assert local_name != "href", attribute
            assert local_name != "style", attribute
    assert "href" not in svg_text
    assert "url(" not in svg_text


def test_the_shapes_are_cached():
    assert country_shapes() is country_shapes()


def test_the_map_paths_carry_each_countrys_class_and_title_and_escape_them():
    from diplomacy.worldmap import svg_paths

    markup = svg_paths({"JP": "state-active"}, {"JP": "Japan: <b>active</b>"}, default_class="state-none")

    assert markup.count("<path ") == len(country_shapes())
    assert '<path d="' in markup
    assert 'class="state-active"><title>Japan: &lt;b&gt;active&lt;/b&gt;</title></path>' in markup
    germany = next(shape for shape in country_shapes() if shape.code == "DE")
    assert f'class="state-none"><title>{germany.name}</title></path>' in markup
    assert "<b>" not in markup
