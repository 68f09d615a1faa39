"""World regions: every country has exactly one, and the lookups agree with each other."""

import pytest
from django.utils.functional import Promise
from django_countries import countries

from diplomacy.geography import COUNTRY_REGION, REGIONS, countries_in, region_of

REGION_CODES = [code for code, _label in REGIONS]


def test_every_country_of_django_countries_and_kosovo_has_a_region():
    codes = {country.code for country in countries} | {"XK"}
    assert sorted(code for code in codes if region_of(code) is None) == []


def test_every_region_code_of_the_mapping_is_a_known_region():
    assert set(COUNTRY_REGION.values()) == set(REGION_CODES)


def test_multilateral_is_not_a_region():
    assert "multilateral" not in REGION_CODES


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("BE", "europe"),
        ("TR", "europe"),
        ("GE", "europe"),
        ("XK", "europe"),
        ("EG", "north_africa_middle_east"),
        ("IR", "north_africa_middle_east"),
        ("PS", "north_africa_middle_east"),
        ("SD", "north_africa_middle_east"),
        ("CD", "sub_saharan_africa"),
        ("BR", "latin_america_caribbean"),
        ("MX", "latin_america_caribbean"),
        ("US", "north_america"),
        ("GL", "north_america"),
        ("CN", "asia"),
        ("TW", "asia"),
        ("HK", "asia"),
        ("KZ", "asia"),
        ("AU", "oceania"),
    ],
)
def test_a_country_lies_in_its_region(country, region):
    assert region_of(country) == region


def test_region_of_accepts_lower_case_and_refuses_unknown_codes():
    assert region_of("be") == "europe"
    assert region_of("ZZ") is None


def test_countries_in_is_the_inverse_of_region_of():
    listed = [country for region in REGION_CODES for country in countries_in(region)]
    assert len(listed) == len(set(listed)) == len(COUNTRY_REGION)
    for region in REGION_CODES:
        assert countries_in(region) == sorted(c for c, r in COUNTRY_REGION.items() if r == region)
        assert all(region_of(country) == region for country in countries_in(region))


def test_countries_in_an_unknown_region_raises():
    with pytest.raises(ValueError):
        countries_in("multilateral")


def test_region_labels_are_lazy_so_that_they_follow_the_active_language():
    label = dict(REGIONS)["north_africa_middle_east"]
    assert isinstance(label, Promise)
    assert str(label) == "North Africa and Middle East"
