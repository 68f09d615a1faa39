"""The publication editor and the workflow functions behind it."""

import io
from datetime import date, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from calendar_app import workflow
from calendar_app.models import Asset, Publication, PublicationEvent, PublicationStatus
from calendar_app.timezones import check_local_time
from calendar_app.workflow import PublicationContent
from tests.factories import make_channel

NOW = "2026-11-28 10:00:00+00:00"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def channels(istanbul):
    return {
        "facebook": make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul"),
        "x": make_channel(post=istanbul, platform="x", handle="@BelgiumIstanbul"),
    }


def form_data(channels, **extra):
    data = {
        "title": "Flemish cleantech mission",
        "kind": "regular",
        "channels": [c.pk for c in channels],
        "local_date": "2026-12-10",
        "local_time": "09:00",
        "variant_en": "Belgian cleantech companies visit Istanbul this week.",
        "variant_tr": "Belçikalı temiz teknoloji şirketleri bu hafta İstanbul'da.",
    }
    data.update(extra)
    return data


def png_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "steelblue").save(buffer, "PNG")
    return buffer.getvalue()


def content(channels, **extra) -> PublicationContent:
    values = {
        "title": "A publication",
        "kind": "regular",
        "campaign": None,
        "channels": list(channels),
        "local_date": date(2026, 12, 10),
        "local_time": time(9, 0),
        "variants": {"en": "Hello"},
    }
    values.update(extra)
    return PublicationContent(**values)


# --- Creating ---------------------------------------------------------------


def test_an_editor_plans_a_publication_at_nine_in_istanbul(client, editor, istanbul, channels):
    client.force_login(editor)
    response = client.post(reverse("publication_new"), form_data(channels.values()))
    assert response.status_code == 302
    publication = Publication.objects.get()
    assert publication.status == PublicationStatus.DRAFT
    assert publication.post == istanbul
    assert (publication.local_date, publication.local_time) == (date(2026, 12, 10), time(9, 0))
    assert publication.timezone == "Europe/Istanbul"
    assert publication.scheduled_at.isoformat() == "2026-12-10T06:00:00+00:00"
    assert publication.local_datetime.hour == 9
    assert {v.language for v in publication.variants.all()} == {"en", "tr"}
    assert set(publication.channels.all()) == set(channels.values())
    assert PublicationEvent.objects.get().verb == "created"


def test_the_editor_page_names_the_posts_zone_and_offers_its_languages(client, editor, channels):
    client.force_login(editor)
    response = client.get(reverse("publication_new"))
    page = response.content.decode()
    assert "Times are local to the post: Istanbul (UTC+3)." in page
    for language in ("nl", "fr", "de", "en", "tr"):
        assert f'name="variant_{language}"' in page
    assert 'data-platform="x"' in page


def test_a_publication_needs_a_text_in_some_language(client, editor, channels):
    client.force_login(editor)
    data = form_data(channels.values(), variant_en="", variant_tr="")
    response = client.post(reverse("publication_new"), data)
    assert response.status_code == 400
    assert "at least one language" in response.content.decode()
    assert not Publication.objects.exists()


def test_text_over_a_platforms_limit_is_refused_with_the_count(client, editor, channels):
    client.force_login(editor)
    response = client.post(reverse("publication_new"), form_data([channels["x"]], variant_en="word " * 60))
    assert response.status_code == 400
    assert "Too long for X @BelgiumIstanbul: 299 of 280 characters." in response.content.decode()
    assert not Publication.objects.exists()


def test_a_platform_override_keeps_a_long_text_off_x(client, editor, channels):
    client.force_login(editor)
    data = form_data(channels.values(), variant_en="word " * 60, variant_en__x="Short for X.", variant_tr="")
    assert client.post(reverse("publication_new"), data).status_code == 302
    variant = Publication.objects.get().variants.get(language="en")
    assert variant.text_for("x") == "Short for X."
    assert variant.text_for("facebook").startswith("word word")


def test_a_forged_channel_of_another_post_is_refused(client, editor, channels, ankara):
    foreign = make_channel(post=ankara, platform="x")
    client.force_login(editor)
    response = client.post(reverse("publication_new"), form_data([foreign]))
    assert response.status_code == 400
    assert "channels" in response.context["form"].errors
    assert not Publication.objects.exists()


def test_the_workflow_refuses_a_channel_of_another_post_too(editor, istanbul, ankara):
    foreign = make_channel(post=ankara)
    with pytest.raises(ValidationError):
        workflow.create_publication(editor, istanbul, content([foreign]))
    assert not Publication.objects.exists()


def test_an_unknown_language_code_is_refused(client, editor, channels):
    client.force_login(editor)
    response = client.post(reverse("publication_new"), form_data(channels.values(), variant_xx="Hmm"))
    assert response.status_code == 400
    assert "Unknown language code: xx." in response.content.decode()


@pytest.mark.parametrize(
    ("day", "message"),
    [("1970-01-01", "already passed"), ("2999-01-01", "two years"), ("2026-11-28", "already passed")],
)
def test_dates_in_the_past_or_far_future_are_refused(client, editor, channels, day, message):
    client.force_login(editor)
    response = client.post(
        reverse("publication_new"), form_data(channels.values(), local_date=day, local_time="08:00")
    )
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_time_that_does_not_exist_in_brussels_is_refused(client, reviewer, db):
    from tests.factories import make_post

    brussels = make_post(
        code="be-test-brussels",
        city="Brussels",
        country="BE",
        timezone="Europe/Brussels",
        host_languages="nl,fr,de",
    )
    channel = make_channel(post=brussels)
    client.force_login(reviewer)
    data = form_data([channel], local_date="2027-03-28", local_time="02:30", variant_tr="")
    response = client.post(reverse("publication_new") + "?post=be-test-brussels", data)
    assert response.status_code == 400
    assert "does not exist on 28 March 2027 in Brussels" in response.content.decode()


def test_check_local_time_refuses_gaps_and_overlaps_and_keeps_ordinary_times():
    with pytest.raises(ValidationError, match="does not exist"):
        check_local_time(date(2027, 3, 28), time(2, 30), "Europe/Brussels")
    with pytest.raises(ValidationError, match="happens twice"):
        check_local_time(date(2026, 10, 25), time(2, 30), "Europe/Brussels")
    assert check_local_time(date(2027, 3, 28), time(3, 30), "Europe/Brussels").hour == 1
    # Istanbul keeps UTC+3 all year: no gap there.
    assert check_local_time(date(2027, 3, 28), time(2, 30), "Europe/Istanbul").hour == 23


def test_nine_in_istanbul_stays_nine_there_across_brusselss_dst_change(editor, istanbul, channels):
    before = workflow.create_publication(
        editor, istanbul, content(channels.values(), local_date=date(2027, 3, 27))
    )
    after = workflow.create_publication(
        editor, istanbul, content(channels.values(), local_date=date(2027, 3, 29))
    )
    assert before.local_datetime.hour == after.local_datetime.hour == 9
    brussels = [
        p.scheduled_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Brussels")).hour
        for p in (before, after)
    ]
    assert brussels == [7, 8]


def test_a_change_of_a_zones_rules_moves_the_instant_not_the_wall_time(editor, istanbul, channels):
    publication = workflow.create_publication(editor, istanbul, content(channels.values()))
    # Simulate the instant having been derived under older rules (one hour off).
    Publication.objects.filter(pk=publication.pk).update(
        scheduled_at=publication.scheduled_at - timedelta(hours=1)
    )
    assert workflow.recompute_instants_for_zone("Europe/Istanbul") == 1
    publication.refresh_from_db()
    assert publication.local_datetime.hour == 9
    assert workflow.recompute_instants_for_zone("Europe/Istanbul") == 0


# --- Who may plan -----------------------------------------------------------


def test_an_editor_cannot_plan_for_another_post(client, editor, ankara):
    client.force_login(editor)
    assert client.get(reverse("publication_new") + "?post=be-emb-ankara").status_code == 403
    with pytest.raises(PermissionDenied):
        workflow.create_publication(editor, ankara, content([]))


def test_central_chooses_the_post_first(client, reviewer, istanbul, ankara, channels):
    client.force_login(reviewer)
    page = client.get(reverse("publication_new")).content.decode()
    assert "be-emb-ankara" in page and "be-cg-istanbul" in page
    response = client.get(reverse("publication_new") + "?post=be-cg-istanbul")
    assert response.context["form"].post == istanbul


@pytest.mark.parametrize("persona", ["partner_user", "outsider"], indirect=True)
def test_partners_and_outsiders_cannot_plan(client, persona, istanbul):
    client.force_login(persona)
    assert client.get(reverse("publication_new")).status_code == 403
    assert client.post(reverse("publication_new") + "?post=be-cg-istanbul", {}).status_code == 403


# --- Editing ------------------------------------------------------------------


@pytest.fixture
def publication(editor, istanbul, channels):
    return workflow.create_publication(editor, istanbul, content(channels.values()))


def test_an_edit_bumps_the_revision_and_is_recorded(client, editor, publication, channels):
    client.force_login(editor)
    data = form_data(channels.values(), title="New title", revision=publication.revision)
    assert client.post(reverse("publication_edit", args=[publication.pk]), data).status_code == 302
    publication.refresh_from_db()
    assert (publication.title, publication.revision) == ("New title", 2)
    event = publication.events.last()
    assert event.verb == "edited"
    assert "title" in event.data["changed"]


def test_a_stale_form_is_refused_and_shows_the_other_persons_version(
    client, editor, manager, publication, channels
):
    client.force_login(manager)
    client.post(
        reverse("publication_edit", args=[publication.pk]),
        form_data(channels.values(), title="Manager's title", revision=1),
    )
    client.force_login(editor)
    response = client.post(
        reverse("publication_edit", args=[publication.pk]),
        form_data(channels.values(), title="Mine", revision=1),
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved this publication" in page
    assert "Manager&#x27;s title" in page
    publication.refresh_from_db()
    assert publication.title == "Manager's title"


def test_editing_an_approved_publication_sends_it_back_to_review(editor, publication, channels):
    Publication.objects.filter(pk=publication.pk).update(status=PublicationStatus.APPROVED)
    publication.refresh_from_db()
    updated = workflow.update_publication(
        editor, publication, content(channels.values(), variants={"en": "Changed"}), expected_revision=1
    )
    assert updated.status == PublicationStatus.IN_REVIEW
    event = updated.events.last()
    assert (event.verb, event.from_status, event.to_status) == (
        "edited_after_approval",
        "approved",
        "in_review",
    )


def test_saving_an_approved_publication_unchanged_keeps_the_approval(editor, publication, channels):
    Publication.objects.filter(pk=publication.pk).update(status=PublicationStatus.APPROVED)
    publication.refresh_from_db()
    updated = workflow.update_publication(
        editor, publication, content(channels.values()), expected_revision=1
    )
    assert updated.status == PublicationStatus.APPROVED


@pytest.mark.parametrize("status", [PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED])
def test_published_and_cancelled_publications_cannot_be_edited(client, editor, publication, channels, status):
    Publication.objects.filter(pk=publication.pk).update(status=status)
    client.force_login(editor)
    response = client.post(
        reverse("publication_edit", args=[publication.pk]),
        form_data(channels.values(), title="x", revision=1),
    )
    assert response.status_code == 403
    publication.refresh_from_db()
    assert publication.title == "A publication"


def test_the_editor_is_a_page_of_its_own_linked_from_the_publication_page(client, editor, publication):
    client.force_login(editor)
    page = client.get(publication.get_absolute_url()).content.decode()
    edit_url = reverse("publication_edit", args=[publication.pk])
    assert f'href="{edit_url}"' in page
    assert 'class="editor"' not in page
    assert 'class="editor"' in client.get(edit_url).content.decode()
    # The publication page takes no form any more: its actions post to their own addresses.
    assert client.post(publication.get_absolute_url(), {"title": "x"}).status_code == 405


@pytest.mark.parametrize("status", [PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED])
def test_a_publication_that_cannot_be_edited_has_no_editor_nor_link(client, editor, publication, status):
    Publication.objects.filter(pk=publication.pk).update(status=status)
    client.force_login(editor)
    edit_url = reverse("publication_edit", args=[publication.pk])
    assert edit_url not in client.get(publication.get_absolute_url()).content.decode()
    assert client.get(edit_url).status_code == 403


def test_another_posts_draft_is_not_found_and_its_approved_one_is_read_only(client, editor, ankara, reviewer):
    foreign = workflow.create_publication(reviewer, ankara, content([]))
    client.force_login(editor)
    assert client.get(foreign.get_absolute_url()).status_code == 404
    Publication.objects.filter(pk=foreign.pk).update(status=PublicationStatus.APPROVED)
    response = client.get(foreign.get_absolute_url())
    assert response.status_code == 200
    assert response.context.get("form") is None
    assert client.post(reverse("publication_edit", args=[foreign.pk]), {"title": "x"}).status_code == 403


# --- Rescheduling and duplicating ----------------------------------------------------


def test_moving_a_draft_to_another_day_keeps_its_local_time(client, editor, publication):
    client.force_login(editor)
    response = client.post(
        reverse("publication_reschedule", args=[publication.pk]),
        {"local_date": "2026-12-12", "revision": 1},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["ok"]
    publication.refresh_from_db()
    assert (publication.local_date, publication.local_time) == (date(2026, 12, 12), time(9, 0))
    event = publication.events.last()
    assert event.data == {
        "from": {"date": "2026-12-10", "time": "09:00"},
        "to": {"date": "2026-12-12", "time": "09:00"},
    }


def test_a_post_moving_an_approved_publication_sends_it_back_to_review(editor, publication):
    Publication.objects.filter(pk=publication.pk).update(status=PublicationStatus.APPROVED)
    publication.refresh_from_db()
    moved = workflow.reschedule_publication(
        editor, publication, local_date=date(2026, 12, 11), local_time=time(10, 0)
    )
    assert moved.status == PublicationStatus.IN_REVIEW


def test_central_moving_an_approved_publication_keeps_the_approval_and_records_it(reviewer, publication):
    Publication.objects.filter(pk=publication.pk).update(status=PublicationStatus.APPROVED)
    publication.refresh_from_db()
    moved = workflow.reschedule_publication(
        reviewer, publication, local_date=date(2026, 12, 11), local_time=time(10, 0)
    )
    assert moved.status == PublicationStatus.APPROVED
    assert moved.events.last().verb == "rescheduled"


def test_a_move_into_the_past_is_refused_with_a_message(client, editor, publication):
    client.force_login(editor)
    response = client.post(
        reverse("publication_reschedule", args=[publication.pk]),
        {"local_date": "2026-01-01", "revision": 1},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert "already passed" in response.json()["message"]
    publication.refresh_from_db()
    assert publication.local_date == date(2026, 12, 10)


def test_a_move_from_a_stale_calendar_is_refused(client, editor, publication):
    client.force_login(editor)
    client.post(
        reverse("publication_reschedule", args=[publication.pk]), {"local_date": "2026-12-11", "revision": 1}
    )
    response = client.post(
        reverse("publication_reschedule", args=[publication.pk]),
        {"local_date": "2026-12-15", "revision": 1},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409
    publication.refresh_from_db()
    assert publication.local_date == date(2026, 12, 11)


def test_an_editor_duplicates_to_another_date(client, editor, publication):
    client.force_login(editor)
    response = client.post(
        reverse("publication_duplicate", args=[publication.pk]),
        {"local_date": "2026-12-17", "local_time": "09:00"},
    )
    copy = Publication.objects.exclude(pk=publication.pk).get()
    assert response["Location"] == copy.get_absolute_url()
    assert copy.status == PublicationStatus.DRAFT
    assert copy.local_date == date(2026, 12, 17)
    assert {v.language: v.text for v in copy.variants.all()} == {"en": "Hello"}
    assert copy.events.filter(verb="duplicated").exists()


def test_central_duplicates_to_other_posts_on_the_same_platforms(client, reviewer, publication, ankara):
    make_channel(post=ankara, platform="x", handle="@BelgiumAnkara")
    make_channel(post=ankara, platform="instagram", handle="@belgiuminturkey")
    client.force_login(reviewer)
    client.post(
        reverse("publication_duplicate", args=[publication.pk]),
        {"local_date": "2026-12-17", "local_time": "09:00", "posts": [ankara.pk]},
    )
    copy = Publication.objects.get(post=ankara)
    assert [c.handle for c in copy.channels.all()] == ["@BelgiumAnkara"]


def test_an_editor_cannot_duplicate_to_another_post(client, editor, publication, ankara):
    client.force_login(editor)
    client.post(
        reverse("publication_duplicate", args=[publication.pk]),
        {"local_date": "2026-12-17", "local_time": "09:00", "posts": [ankara.pk]},
    )
    assert not Publication.objects.filter(post=ankara).exists()
    with pytest.raises(PermissionDenied):
        workflow.duplicate_publication(
            editor, publication, local_date=date(2026, 12, 17), local_time=time(9), posts=[ankara]
        )


# --- Images -------------------------------------------------------------------------


def _files_under(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_an_image_is_stored_cleaned_with_alt_text_and_renditions(
    client, editor, channels, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    data = form_data(channels.values(), alt_en="Belgian flags on a quay in Istanbul")
    data["image"] = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    assert client.post(reverse("publication_new"), data).status_code == 302
    asset = Asset.objects.get()
    assert asset.alt_texts == {"en": "Belgian flags on a quay in Istanbul"}
    assert set(asset.renditions) == {"square", "landscape", "portrait"}
    assert not asset.image.name.endswith("photo.png")
    # A saved upload keeps its files: the image and its renditions, nothing else.
    assert _files_under(tmp_path) == sorted([asset.image.name, *asset.renditions.values()])
    publication = Publication.objects.get()
    assert list(publication.assets.all()) == [asset]
    response = client.get(reverse("asset_file", args=[asset.pk, "landscape"]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline;")


def test_an_svg_disguised_as_png_is_refused_and_nothing_is_saved(
    client, editor, channels, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    data = form_data(channels.values())
    data["image"] = SimpleUploadedFile(
        "photo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png"
    )
    response = client.post(reverse("publication_new"), data)
    assert response.status_code == 400
    assert "image" in response.context["form"].errors
    assert not Publication.objects.exists()
    assert not Asset.objects.exists()


def test_images_are_not_served_to_people_who_cannot_see_them(
    client, editor, channels, settings, tmp_path, ankara
):
    from tests.factories import make_user

    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    data = form_data(channels.values(), alt_en="A photo")
    data["image"] = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    client.post(reverse("publication_new"), data)
    asset = Asset.objects.get()
    other = make_user(role="post_editor", post=ankara)
    client.force_login(other)
    assert client.get(reverse("asset_file", args=[asset.pk, "original"])).status_code == 404
    assert client.get(reverse("asset_file", args=[asset.pk, "nonsense"])).status_code == 404


def test_descriptions_typed_without_a_new_image_go_to_the_image_shown(
    client, editor, channels, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    data = form_data(channels.values(), alt_en="Flags on a quay")
    data["image"] = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    client.post(reverse("publication_new"), data)
    publication = Publication.objects.get()
    page = client.get(reverse("publication_edit", args=[publication.pk])).content.decode()
    assert 'value="Flags on a quay"' in page
    data = form_data(channels.values(), alt_en="Flags on a quay", alt_tr="Rıhtımda bayraklar", revision=1)
    assert client.post(reverse("publication_edit", args=[publication.pk]), data).status_code == 302
    assert Asset.objects.get().alt_texts == {"en": "Flags on a quay", "tr": "Rıhtımda bayraklar"}


def test_the_live_check_sees_the_descriptions_of_images_already_attached(
    client, editor, channels, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    data = form_data(channels.values(), alt_en="Flags on a quay")
    data["image"] = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    client.post(reverse("publication_new"), data)
    publication = Publication.objects.get()
    check = {**form_data(channels.values()), "post": "be-cg-istanbul", "publication": publication.pk}
    page = client.post(reverse("publication_check"), check).content.decode()
    assert "Image 1 has no description (alt text) in: Turkish (tr)." in page
    check["alt_tr"] = "Rıhtımda bayraklar"
    page = client.post(reverse("publication_check"), check).content.decode()
    assert "Image 1 has no description" not in page


def test_the_upload_of_a_stale_edit_leaves_no_file_behind(
    client, editor, manager, publication, channels, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(manager)
    client.post(
        reverse("publication_edit", args=[publication.pk]),
        form_data(channels.values(), title="Manager's title", revision=1),
    )
    client.force_login(editor)
    data = form_data(channels.values(), title="Mine", revision=1, alt_en="A quay in Istanbul")
    data["image"] = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    assert client.post(reverse("publication_edit", args=[publication.pk]), data).status_code == 409
    assert not Asset.objects.exists()
    assert _files_under(tmp_path) == []  # neither the image nor its renditions


def test_the_upload_of_a_new_publication_the_workflow_refuses_leaves_no_file_behind(
    client, editor, channels, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path

    def refuse(*args, **kwargs):
        raise ValidationError("Refused after the image was stored.")

    monkeypatch.setattr(workflow, "create_publication", refuse)
    client.force_login(editor)
    data = form_data(channels.values(), alt_en="A quay in Istanbul")
    data["image"] = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    response = client.post(reverse("publication_new"), data)
    assert response.status_code == 400
    assert "Refused after the image was stored." in response.content.decode()
    assert not Asset.objects.exists()
    assert _files_under(tmp_path) == []


def test_a_file_that_cannot_be_removed_after_a_failed_save_does_not_hide_the_saves_error(
    settings, tmp_path, monkeypatch, caplog
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from calendar_app.views.publications import _note_stored, uploads_removed_on_failure

    settings.MEDIA_ROOT = tmp_path

    def cannot(name):
        raise PermissionError(name)

    with pytest.raises(ValueError, match="the save's own error"), uploads_removed_on_failure():
        name = default_storage.save("assets/x.png", ContentFile(b"x"))
        _note_stored(default_storage, name)
        monkeypatch.setattr(default_storage, "delete", cannot)
        raise ValueError("the save's own error")
    assert "Could not remove assets/x.png" in caplog.text
