"""Settings come from the environment, then the TOML file, then defaults; bad files say where."""

from __future__ import annotations

import pytest

from engine import config
from engine.errors import TesseraError


@pytest.fixture
def conf(tmp_path, monkeypatch):
    for key in config.SETTINGS:
        monkeypatch.delenv("TESSERA_" + key.upper(), raising=False)
    path = tmp_path / "tessera.toml"
    monkeypatch.setenv("TESSERA_CONFIG", str(path))
    config._file_values.cache_clear()
    yield path
    config._file_values.cache_clear()


def test_file_values_apply_and_the_environment_wins(conf, monkeypatch):
    conf.write_text('[tessera]\ndatabase_url = "sqlite:///from-file.db"\ntoken_lifetime_days = 7\n')
    assert config.setting("database_url") == "sqlite:///from-file.db"
    assert config.setting("token_lifetime_days") == 7
    assert config.setting("secure_cookies") is False  # the default
    monkeypatch.setenv("TESSERA_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("TESSERA_SECURE_COOKIES", "1")
    assert config.setting("database_url") == "sqlite:///from-env.db"
    assert config.setting("secure_cookies") is True


def test_an_unknown_key_names_the_file_and_line(conf):
    conf.write_text('database_url = "sqlite:///x.db"\n\nsecret_kee = "typo"\n')
    with pytest.raises(TesseraError) as err:
        config.setting("database_url")
    assert f"{conf}:3: unknown setting 'secret_kee'" in err.value.message


def test_a_wrong_type_is_refused(conf):
    conf.write_text('token_lifetime_days = "thirty"\n')
    with pytest.raises(TesseraError, match=r":1: token_lifetime_days must be a whole number"):
        config.setting("token_lifetime_days")


def test_a_broken_file_reports_the_parser_position(conf):
    conf.write_text("database_url = \n")
    with pytest.raises(TesseraError, match="line 1"):
        config.setting("database_url")


def test_a_bad_environment_value_is_refused(conf, monkeypatch):
    monkeypatch.setenv("TESSERA_SECURE_COOKIES", "maybe")
    with pytest.raises(TesseraError, match="TESSERA_SECURE_COOKIES"):
        config.setting("secure_cookies")


def test_the_web_app_reads_its_settings(conf):
    from web.app import create_app

    conf.write_text('secret_key = "file-secret"\nmax_body_mb = 2\n')

    class Dummy:  # create_app only stores the platform; no request is made
        pass

    app = create_app(Dummy())
    assert app.config["SECRET_KEY"] == "file-secret"
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
