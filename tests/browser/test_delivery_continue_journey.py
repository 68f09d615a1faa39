"""A thread's second post went out although X never answered: the editor finds it live,
gives its address on "publish now" (a wrong one first, refused with the form again) and the
engine sends posts 3 and 4 as replies. Every page passes the accessibility check."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from calendar_app.models import Delivery, PublicationStatus
from calendar_app.publishing import engine, http
from tests.fake_platforms import FAKES
from tests.test_delivery_continue import made, thread_delivery, unknown_at, x_address

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]


@pytest.fixture
def fake_x(monkeypatch):
    monkeypatch.setattr(http, "TIMEOUT_SECONDS", 0.6)
    server = FAKES["x"]()
    yield server
    server.close()


def test_the_editor_records_the_post_found_live_and_the_rest_of_the_thread_goes_out(
    new_visitor, fake_x, istanbul, editor, reviewer
):
    delivery = unknown_at(thread_delivery(fake_x, istanbul, editor, reviewer), fake_x, 2)
    writer = new_visitor()
    writer.log_in(editor.email)
    writer.goto("/publications/publish-now/")
    card = writer.page.locator("li.card", has_text="X @BelgiumInTR")
    expect(card.locator(".note")).to_contain_text("Part 1 of 4 is live; part 2 may have gone out")
    field = card.get_by_label("Live address of post 2")

    # Another account's post: refused, the form again with the address to correct.
    field.fill(x_address("1445880500002", handle="SomeoneElse"))
    with writer.page.expect_navigation():
        card.get_by_role("button", name="Post 2 went out: record its address and send the rest").click()
    writer.audit()
    expect(writer.page.get_by_role("alert")).to_contain_text("not of this channel's account @BelgiumInTR")
    assert Delivery.objects.get(pk=delivery.pk).status == "unknown"

    writer.page.get_by_label("Live address of post 2").fill(x_address(made(fake_x)[1]))
    with writer.page.expect_navigation():
        writer.page.get_by_role(
            "button", name="Post 2 went out: record its address and send the rest"
        ).click()
    writer.audit()
    assert writer.path == "/publications/publish-now/"
    expect(writer.page.get_by_text("Recorded: the next posts will be sent within a minute.")).to_be_visible()

    engine.publish_due()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert delivery.publication.status == PublicationStatus.PUBLISHED
    assert len(fake_x.calls("post")) == 4
    assert fake_x.problems == []
