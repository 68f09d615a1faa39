"""The fast select renders what Django's own Select renders."""

from django import forms
from django.http import QueryDict

from diplomacy.widgets import QuickSelect, QuickSelectMultiple, use_quick_selects


class Form(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "---------"), ("embassy", "Embassy"), ("office", "Office <&>")],
        required=False,
        help_text="Pick one.",
    )
    many = forms.MultipleChoiceField(choices=[("a", "A")], required=False)


def test_the_quick_select_renders_the_same_options_and_attributes_as_django():
    plain = Form(data={"kind": "office"})
    quick = use_quick_selects(Form(data={"kind": "office"}))
    assert isinstance(quick.fields["kind"].widget, QuickSelect)
    assert isinstance(quick.fields["many"].widget, QuickSelectMultiple)
    normalise = lambda html: " ".join(str(html).replace("\n", " ").split()).replace("> <", "><")  # noqa: E731
    assert normalise(quick["kind"]) == normalise(plain["kind"])
    assert 'aria-describedby="id_kind_helptext"' in str(quick["kind"])
    assert '<option value="office" selected>Office &lt;&amp;&gt;</option>' in str(quick["kind"])


def test_the_quick_select_renders_model_choices_groups_and_an_empty_value_as_django():
    from diplomacy.models import Post

    class Models(forms.Form):
        post = forms.ModelChoiceField(queryset=Post.objects.none(), required=False, to_field_name="code")
        grouped = forms.ChoiceField(
            choices=[("Europe", [("be", "Belgium"), ("fr", "France")])], required=False
        )
        plain = forms.ChoiceField(choices=[("", "---------"), ("a", "A"), ("a", "A again")], required=False)
        many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B"), ("c", "C")], required=False)

    normalise = lambda html: " ".join(str(html).replace("\n", " ").split()).replace("> <", "><")  # noqa: E731
    for data in (
        {},
        {"grouped": "fr", "plain": "a"},
        {"post": "nowhere", "plain": ""},
        QueryDict("many=a&many=c"),
    ):
        plain, quick = Models(data=data), use_quick_selects(Models(data=data))
        for name in ("post", "grouped", "plain", "many"):
            assert normalise(quick[name]) == normalise(plain[name]), (data, name)
    # Only the first of two equal values is selected, as in Django's single select.
    assert str(use_quick_selects(Models(data={"plain": "a"}))["plain"]).count("selected") == 1
