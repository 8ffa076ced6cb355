"""Config: defaults, the MAILGUN_MOCK_* environment, and refusing unusable values."""

from __future__ import annotations

import pytest

from mailgun_mock.base.config import DEFAULT_API_KEY, Config, ConfigError


def test_config_defaults_bind_loopback() -> None:
    """By default the mock binds 127.0.0.1 on a free port with the documented keys."""
    config = Config()
    assert (config.host, config.port, config.api_key) == ("127.0.0.1", 0, DEFAULT_API_KEY)
    assert config.signing_key != config.api_key


def test_config_reads_env_twins() -> None:
    """Each field is read from MAILGUN_MOCK_<FIELD>, converted to the field's type."""
    env = {"MAILGUN_MOCK_HOST": "0.0.0.0", "MAILGUN_MOCK_PORT": "8123", "MAILGUN_MOCK_API_KEY": "k",
           "MAILGUN_MOCK_SIGNING_KEY": "s", "MAILGUN_MOCK_REGEX_TIMEOUT": "0.2", "UNRELATED": "x"}
    config = Config.from_env(env)
    assert (config.host, config.port, config.api_key, config.signing_key, config.regex_timeout) == (
        "0.0.0.0", 8123, "k", "s", 0.2)


def test_config_overrides_beat_env_and_none_is_ignored() -> None:
    """Explicit values (CLI flags) win over the environment; None means 'not given'."""
    config = Config.from_env({"MAILGUN_MOCK_PORT": "8123", "MAILGUN_MOCK_API_KEY": "env"}, port=9000, api_key=None)
    assert (config.port, config.api_key) == (9000, "env")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MAILGUN_MOCK_PORT": "http"}, "MAILGUN_MOCK_PORT must be a number"),
        ({"MAILGUN_MOCK_PORT": "70000"}, "port must be between 0 and 65535"),
        ({"MAILGUN_MOCK_API_KEY": ""}, "api_key must be a non-empty single-line string"),
        ({"MAILGUN_MOCK_SIGNING_KEY": "a\nb"}, "signing_key must be a non-empty single-line string"),
        ({"MAILGUN_MOCK_REGEX_TIMEOUT": "0"}, "regex_timeout must be positive"),
    ],
)
def test_config_refuses_bad_values(env: dict[str, str], message: str) -> None:
    """A value that cannot work is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env)


def test_config_refuses_unknown_override() -> None:
    """An unknown field name is a ConfigError, not a silent no-op."""
    with pytest.raises(ConfigError, match="colour"):
        Config.from_env({}, colour="blue")


def test_config_reads_delivery_and_storage_env() -> None:
    """Retry schedule (comma-separated), retention, timeout, size limit and public URL come from the environment."""
    config = Config.from_env({
        "MAILGUN_MOCK_RETRY_SCHEDULE": "1, 2.5,60", "MAILGUN_MOCK_RETENTION": "3600",
        "MAILGUN_MOCK_DELIVERY_TIMEOUT": "2", "MAILGUN_MOCK_MAX_MESSAGE_SIZE": "1000",
        "MAILGUN_MOCK_PUBLIC_URL": "https://mail.example.test/mock/",
    })
    assert config.retry_schedule == (1.0, 2.5, 60.0)
    assert (config.retention, config.delivery_timeout, config.max_message_size) == (3600.0, 2.0, 1000)
    assert config.public_url == "https://mail.example.test/mock"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MAILGUN_MOCK_RETRY_SCHEDULE": "10,soon"}, "comma-separated seconds"),
        ({"MAILGUN_MOCK_RETRY_SCHEDULE": "10,-5"}, "non-negative"),
        ({"MAILGUN_MOCK_PUBLIC_URL": "mock.example"}, "must start with http"),
        ({"MAILGUN_MOCK_RETENTION": "0"}, "retention must be positive"),
    ],
)
def test_config_refuses_bad_delivery_values(env: dict[str, str], message: str) -> None:
    """Unusable schedules, URLs and durations are refused with a message."""
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env)


def test_config_domain_env_twin_and_serves() -> None:
    """MAILGUN_MOCK_DOMAIN (comma-separated) restricts the served domains, compared without case."""
    config = Config.from_env({"MAILGUN_MOCK_DOMAIN": "Mg.Example.com, other.test", "MAILGUN_MOCK_SMTP_PORT": "2525",
                              "MAILGUN_MOCK_SNAPSHOT": "/tmp/state.json"})
    assert config.domains == ("mg.example.com", "other.test")
    assert config.serves("MG.example.com") and not config.serves("example.com")
    assert Config().serves("anything.example")
    assert (config.smtp_port, config.snapshot) == (2525, "/tmp/state.json")


def test_config_relay_env_twins_and_zero_means_off() -> None:
    """MAILGUN_MOCK_SMTP_SUBMISSION_PORT and MAILGUN_MOCK_SMTP_PASSWORD are read; 0 there means no relay, 0 in Python a free port."""
    config = Config.from_env({"MAILGUN_MOCK_SMTP_SUBMISSION_PORT": "2587", "MAILGUN_MOCK_SMTP_PASSWORD": "pw-env"})
    assert (config.smtp_submission_port, config.smtp_password) == (2587, "pw-env")
    assert Config.from_env({"MAILGUN_MOCK_SMTP_SUBMISSION_PORT": "0"}).smtp_submission_port is None
    assert Config().smtp_submission_port is None and Config(smtp_submission_port=0).smtp_submission_port == 0
    with pytest.raises(ConfigError, match="smtp_password must be a non-empty single-line string"):
        Config(smtp_password="")
