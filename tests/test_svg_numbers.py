"""Numbers in SVG attributes are written with a point in every language.

Dutch and French write "1,0"; an SVG attribute reads that as a malformed length,
draws nothing and logs a console error per attribute.
"""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from calendar_app.reports.figures import bar_chart

#: An attribute whose value is a number with a decimal comma, inside an SVG element.
COMMA_NUMBER = re.compile(r'\s[\w:-]+="-?\d+,\d+"')
SVG = re.compile(r"<svg.*?</svg>", re.S)


@pytest.mark.parametrize("language", ["en", "nl", "fr", "de"])
def test_the_bar_chart_writes_its_numbers_with_a_point(language):
    chart = bar_chart([3, 7, 2], target=4, width=100, height=30)
    with translation.override(language):
        svg = render_to_string(
            "calendar_app/_bar_chart.html", {"chart": chart, "chart_id": "t", "chart_title": "Chart"}
        )
    assert not COMMA_NUMBER.search(svg), svg
    assert f'x="{chart["bars"][1]["x"]}"' in svg
    assert "." in str(chart["bars"][1]["x"])  # the test would be empty with whole numbers


@pytest.mark.parametrize("language", ["nl", "fr"])
@pytest.mark.parametrize("page", ["activity", "coverage"])
def test_report_pages_write_no_decimal_comma_into_svg(client, reviewer, istanbul, language, page):
    reviewer.language = language
    reviewer.save(update_fields=["language"])
    client.force_login(reviewer)
    response = client.get(reverse(page))
    assert response.status_code == 200
    drawings = SVG.findall(response.content.decode())
    assert drawings, "the page draws no chart"
    for drawing in drawings:
        assert not COMMA_NUMBER.search(drawing), COMMA_NUMBER.search(drawing)
