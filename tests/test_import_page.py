"""The CSV upload page of the network registry (the importer itself: test_importing.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from diplomacy.models import Post

HEADER = "code,kind,name,city,country_iso2,timezone,host_languages\n"
GOOD = HEADER + "be-emb-oslo,embassy,Embassy of Belgium in Oslo,Oslo,NO,Europe/Oslo,no\n"


def upload(client, content: bytes, **extra):
    return client.post(
        reverse("network_import"),
        {"file": SimpleUploadedFile("network.csv", content, content_type="text/csv"), **extra},
    )


def test_a_central_reviewer_imports_a_file_and_is_told_the_counts(client, reviewer):
    client.force_login(reviewer)
    response = upload(client, GOOD.encode(), **{"import": "1"})
    assert response.status_code == 302
    assert Post.objects.filter(code="be-emb-oslo").exists()
    response = client.get(response["Location"])
    assert "1 created" in response.content.decode()


def test_check_only_validates_and_writes_nothing(client, reviewer):
    client.force_login(reviewer)
    response = upload(client, GOOD.encode(), check="1")
    assert response.status_code == 200
    assert response.context["report"].ok
    assert "would create 1" in response.content.decode()
    assert not Post.objects.exists()


def test_a_bad_file_lists_each_problem_with_its_line_and_imports_nothing(client, reviewer):
    client.force_login(reviewer)
    content = GOOD + "be-emb-x,embassy,X,X,ZZ,Europe/Nowhere,xx\n"
    response = upload(client, content.encode(), **{"import": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 3" in page
    assert "ZZ" in page
    assert not Post.objects.exists()


def test_a_file_in_the_wrong_encoding_is_refused(client, reviewer):
    client.force_login(reviewer)
    content = (HEADER + "be-cg-x,embassy,Ambassade de Belgique à Liège,Liège,FR,Europe/Paris,fr\n").encode(
        "latin-1"
    )
    response = upload(client, content, **{"import": "1"})
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    assert not Post.objects.exists()


def test_an_empty_upload_is_refused(client, reviewer):
    client.force_login(reviewer)
    response = upload(client, b"", **{"import": "1"})
    assert response.status_code == 400
    assert response.context["form"].errors


def test_an_oversized_upload_is_refused(client, reviewer):
    client.force_login(reviewer)
    response = upload(client, b"x" * (2 * 1024 * 1024 + 1), **{"import": "1"})
    assert response.status_code == 400
    assert "2 MB" in str(response.context["form"].errors)


def test_editors_cannot_upload(client, editor):
    client.force_login(editor)
    assert upload(client, GOOD.encode(), **{"import": "1"}).status_code == 403
    assert not Post.objects.filter(code="be-emb-oslo").exists()


def test_the_page_names_the_optional_plan_columns_and_a_bad_plan_is_a_400(client, reviewer, istanbul):
    client.force_login(reviewer)
    assert "language_plan,separator" in client.get(reverse("network_import")).content.decode()

    content = f"post_code,platform,handle,language_plan\n{istanbul.code},facebook,BE,thread\n"
    response = upload(client, content.encode(), **{"import": "1"})

    assert response.status_code == 400
    assert "Facebook has no threads" in response.content.decode()
