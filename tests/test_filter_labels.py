"""Every filter's empty choice says what it means ("All countries", "Any status"), never
Django's "---------"."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize(
    "name", ["network", "coverage", "activity", "proposal_list", "calendar", "approvals"]
)
def test_central_filter_forms_label_their_empty_choices(client, reviewer, istanbul, ankara, fit, name):
    client.force_login(reviewer)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert "---------" not in response.content.decode()


def test_the_invitation_form_asks_to_choose_a_post_or_a_partner(client, reviewer, istanbul, fit):
    client.force_login(reviewer)
    page = client.get(reverse("invitation_list")).content.decode()
    assert "---------" not in page
    assert ">Choose a post</option>" in page and ">Choose a partner</option>" in page
