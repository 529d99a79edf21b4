"""Declarative forms: fields are declared with a decorator and parsed from submitted text."""


class FormError(ValueError):
    """A submitted form that cannot be accepted."""


def field(name, *, required=True, default=None, parse=str):
    """Declare a field of the decorated form; fields parse in the order they are listed."""

    def declare(form):
        form.fields = [(name, required, default, parse), *getattr(form, "fields", [])]
        return form

    return declare


def flag(text):
    """A yes/no answer as a bool."""
    lowered = text.strip().lower()
    if lowered not in ("yes", "no", "true", "false", "1", "0"):
        raise FormError(f"{text!r} is not a yes/no answer")
    return lowered in ("yes", "true", "1")


def submit(form, values):
    """Parse the submitted ``values`` (name -> text) into the form's result."""
    parsed = {}
    for name, required, default, parse in form.fields:
        text = values.get(name, "").strip()
        if text:
            parsed[name] = parse(text)
        elif required:
            raise FormError(f"{name} is required")
        else:
            parsed[name] = parse(default) if isinstance(default, str) else default
    return form(parsed)


@field("email")
@field("name")
@field("newsletter", required=False, default="no", parse=flag)
@field("age", required=False, parse=int)
class SignUp:
    """What a visitor submits to create an account."""

    def __init__(self, values):
        self.__dict__.update(values)
