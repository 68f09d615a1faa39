"""The regions of the world, for the calendar's region filter and its reports.

Each country (ISO 3166-1 alpha-2 code, plus XK for Kosovo) belongs to exactly one region.
The grouping follows the UN geoscheme (M49) subregions, regrouped the way the ministry
reports: Türkiye, Cyprus and the Caucasus count as Europe; the Gulf, the Levant, Iran
and North Africa (with Sudan) form one region; the Americas split into North America
(the United States, Canada and their northern neighbours) and everything south of them.
"Multilateral" is not a region: an organisation has no place on this map.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_countries.fields import Country

REGIONS: list[tuple[str, Promise]] = [
    ("europe", _("Europe")),
    ("north_africa_middle_east", _("North Africa and Middle East")),
    ("sub_saharan_africa", _("Sub-Saharan Africa")),
    ("north_america", _("North America")),
    ("latin_america_caribbean", _("Latin America and Caribbean")),
    ("asia", _("Asia")),
    ("oceania", _("Oceania")),
]

# Region -> countries, grouped by UN subregion so that each line can be checked against
# the geoscheme. COUNTRY_REGION below is built from it.
# fmt: off
_COUNTRIES_BY_REGION: dict[str, tuple[str, ...]] = {
    "europe": (
        # Northern Europe
        "AX", "DK", "EE", "FI", "FO", "GB", "GG", "IE", "IM", "IS", "JE", "LT", "LV", "NO", "SE", "SJ",
        # Western Europe
        "AT", "BE", "CH", "DE", "FR", "LI", "LU", "MC", "NL",
        # Southern Europe, with Kosovo
        "AD", "AL", "BA", "ES", "GI", "GR", "HR", "IT", "ME", "MK", "MT", "PT", "RS", "SI", "SM", "VA",
        "XK",
        # Eastern Europe
        "BG", "BY", "CZ", "HU", "MD", "PL", "RO", "RU", "SK", "UA",
        # Western Asia in the UN scheme, Europe for us: Türkiye, Cyprus, the Caucasus
        "TR", "CY", "AM", "AZ", "GE",
    ),
    "north_africa_middle_east": (
        # Western Asia: the Gulf and the Levant
        "AE", "BH", "IL", "IQ", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "YE",
        # Iran (Southern Asia in the UN scheme)
        "IR",
        # Northern Africa, with Western Sahara and Sudan
        "DZ", "EG", "EH", "LY", "MA", "SD", "TN",
    ),
    "sub_saharan_africa": (
        # Eastern Africa, with the British Indian Ocean Territory and the French Southern
        # Territories, which the UN scheme places there
        "BI", "DJ", "ER", "ET", "IO", "KE", "KM", "MG", "MU", "MW", "MZ", "RE", "RW", "SC", "SO",
        "SS", "TF", "TZ", "UG", "YT", "ZM", "ZW",
        # Middle Africa
        "AO", "CD", "CF", "CG", "CM", "GA", "GQ", "ST", "TD",
        # Southern Africa
        "BW", "LS", "NA", "SZ", "ZA",
        # Western Africa, with Saint Helena
        "BF", "BJ", "CI", "CV", "GH", "GM", "GN", "GW", "LR", "ML", "MR", "NE", "NG", "SH", "SL",
        "SN", "TG",
    ),
    "north_america": (
        # Northern America
        "BM", "CA", "GL", "PM", "US",
    ),
    "latin_america_caribbean": (
        # Caribbean
        "AG", "AI", "AW", "BB", "BL", "BQ", "BS", "CU", "CW", "DM", "DO", "GD", "GP", "HT", "JM",
        "KN", "KY", "LC", "MF", "MQ", "MS", "PR", "SX", "TC", "TT", "VC", "VG", "VI",
        # Mexico and Central America
        "BZ", "CR", "GT", "HN", "MX", "NI", "PA", "SV",
        # South America, with Bouvet Island and South Georgia, which the UN scheme places there
        "AR", "BO", "BR", "BV", "CL", "CO", "EC", "FK", "GF", "GS", "GY", "PE", "PY", "SR", "UY",
        "VE",
    ),
    "asia": (
        # Central Asia
        "KG", "KZ", "TJ", "TM", "UZ",
        # Southern Asia, without Iran
        "AF", "BD", "BT", "IN", "LK", "MV", "NP", "PK",
        # Eastern Asia, with Hong Kong, Macao and Taiwan
        "CN", "HK", "JP", "KP", "KR", "MN", "MO", "TW",
        # South-eastern Asia
        "BN", "ID", "KH", "LA", "MM", "MY", "PH", "SG", "TH", "TL", "VN",
    ),
    "oceania": (
        # Australia and New Zealand, with their external territories
        "AU", "CC", "CX", "HM", "NF", "NZ",
        # Melanesia
        "FJ", "NC", "PG", "SB", "VU",
        # Micronesia, with the United States Minor Outlying Islands
        "FM", "GU", "KI", "MH", "MP", "NR", "PW", "UM",
        # Polynesia
        "AS", "CK", "NU", "PF", "PN", "TK", "TO", "TV", "WF", "WS",
        # Antarctica has no region in the UN scheme; it is filed here so that every code
        # has one.
        "AQ",
    ),
}
# fmt: on

COUNTRY_REGION: dict[str, str] = {
    country: region for region, countries in _COUNTRIES_BY_REGION.items() for country in countries
}


def country_of(value: str) -> Country:
    """The django-countries Country held by a CountryField attribute.

    The type stubs declare the field a plain CharField (`str`), but at run time its
    attribute is a Country; this one helper says so to the type checker, so that code
    reads `.code` and `.name` without a cast at each use. A bare code is wrapped.
    """
    if isinstance(value, Country):
        return value
    return Country(code=value)


def region_of(country_code: str) -> str | None:
    """The region code of a country code (any case; a django-countries Country works too)."""
    return COUNTRY_REGION.get(str(country_code).upper())


def countries_in(region: str) -> list[str]:
    """The country codes of a region, sorted; ValueError for an unknown region code."""
    if region not in _COUNTRIES_BY_REGION:
        raise ValueError(f"Unknown region {region!r}.")
    return sorted(_COUNTRIES_BY_REGION[region])
