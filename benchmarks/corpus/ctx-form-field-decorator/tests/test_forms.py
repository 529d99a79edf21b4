import pytest

from forms import FormError, SignUp, submit


def test_everything_given():
    form = submit(SignUp, {"name": "Ada", "email": "ada@example.org", "newsletter": "yes", "age": "36"})
    assert (form.name, form.email, form.newsletter, form.age) == ("Ada", "ada@example.org", True, 36)


def test_name_is_required():
    with pytest.raises(FormError, match="name is required"):
        submit(SignUp, {"email": "ada@example.org"})


def test_age_is_optional():
    form = submit(SignUp, {"name": "Ada", "email": "ada@example.org", "newsletter": "no"})
    assert form.age is None


def test_newsletter_defaults_to_no():
    form = submit(SignUp, {"name": "Ada", "email": "ada@example.org"})
    assert form.newsletter is False


def test_a_blank_newsletter_answer_is_no():
    form = submit(SignUp, {"name": "Bo", "email": "bo@example.org", "newsletter": "  "})
    assert form.newsletter is False


def test_a_bad_flag_is_refused():
    with pytest.raises(FormError, match="yes/no"):
        submit(SignUp, {"name": "Bo", "email": "bo@example.org", "newsletter": "maybe"})
