import pytest

from appsettings import Settings, SettingsError

TEXT = """
# service settings
Port = 8080
debug = yes
db.host = localhost
db.name = shop
"""


@pytest.fixture
def settings():
    return Settings.from_text(TEXT)


def test_keys_are_case_insensitive(settings):
    assert settings.get("PORT") == "8080"


def test_missing_key_gives_default(settings):
    assert settings.get("timeout", "30") == "30"
    assert settings.get("timeout") is None


def test_typed_accessors(settings):
    assert settings.get_int("port", 80) == 8080
    assert settings.get_bool("debug", False) is True


def test_typed_accessors_fall_back_to_defaults(settings):
    assert settings.get_int("workers", 4) == 4
    assert settings.get_bool("verbose", False) is False


def test_bad_values_are_reported(settings):
    bad = Settings.from_text("port = eighty\ndebug = maybe")
    with pytest.raises(SettingsError, match="whole number"):
        bad.get_int("port", 80)
    with pytest.raises(SettingsError, match="yes or no"):
        bad.get_bool("debug", False)


def test_section(settings):
    assert settings.section("db") == {"host": "localhost", "name": "shop"}


def test_malformed_line_names_its_number():
    with pytest.raises(SettingsError, match="line 2"):
        Settings.from_text("a = 1\njust words\n")
