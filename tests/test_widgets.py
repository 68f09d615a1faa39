"""The fast select renders what Django's own Select renders."""

from django import forms

from diplomacy.widgets import QuickSelect, use_quick_selects


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
    assert not isinstance(quick.fields["many"].widget, QuickSelect)  # multiple selects stay as they are
    normalise = lambda html: " ".join(str(html).replace("\n", " ").split()).replace("> <", "><")  # noqa: E731
    assert normalise(quick["kind"]) == normalise(plain["kind"])
    assert 'aria-describedby="id_kind_helptext"' in str(quick["kind"])
    assert '<option value="office" selected>Office &lt;&amp;&gt;</option>' in str(quick["kind"])
