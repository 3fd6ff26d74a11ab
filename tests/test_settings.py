"""Settings: backend choice, key validation, redaction, .env files."""
from __future__ import annotations

import pytest

from labkit.settings import OFFLINE_SECRET_KEY, SettingsError, load_settings, redact

TEST_SK = "sk_test_" + "A1b2" * 6
TEST_PK = "pk_test_" + "Z9y8" * 6


def test_default_is_offline_with_the_fake_keys():
    s = load_settings({}, env_file=None)
    assert s.backend == "fake" and s.offline and s.secret_key == OFFLINE_SECRET_KEY


def test_a_test_secret_key_chooses_stripe_test_mode():
    s = load_settings({"STRIPE_SECRET_KEY": TEST_SK, "STRIPE_PUBLISHABLE_KEY": TEST_PK}, env_file=None)
    assert s.backend == "stripe" and s.secret_key == TEST_SK


def test_backend_can_be_forced_offline_with_keys_set():
    s = load_settings({"STRIPE_SECRET_KEY": TEST_SK, "STRIPE_PUBLISHABLE_KEY": TEST_PK, "LABKIT_BACKEND": "fake"},
                      env_file=None)
    assert s.backend == "fake"


@pytest.mark.parametrize("name, value", [
    ("STRIPE_SECRET_KEY", "sk_live_" + "0" * 24),
    ("STRIPE_SECRET_KEY", "rk_live_" + "0" * 24),
    ("STRIPE_PUBLISHABLE_KEY", "pk_live_" + "0" * 24),
])
def test_live_keys_are_refused_with_the_reason(name, value):
    with pytest.raises(SettingsError) as info:
        load_settings({name: value}, env_file=None)
    msg = str(info.value)
    assert name in msg and "LIVE" in msg and "real money" in msg
    assert value not in msg  # redacted in the message


@pytest.mark.parametrize("name, value", [
    ("STRIPE_SECRET_KEY", "pk_test_" + "0" * 24),   # the publishable key in the secret's place
    ("STRIPE_SECRET_KEY", "sk_test_"),
    ("STRIPE_SECRET_KEY", "hello"),
    ("STRIPE_PUBLISHABLE_KEY", TEST_SK),
    ("STRIPE_WEBHOOK_SECRET", "secret"),
])
def test_malformed_keys_name_the_variable(name, value):
    with pytest.raises(SettingsError) as info:
        load_settings({name: value}, env_file=None)
    assert name in str(info.value) and "malformed" in str(info.value)


def test_stripe_backend_needs_both_keys():
    with pytest.raises(SettingsError) as info:
        load_settings({"LABKIT_BACKEND": "stripe", "STRIPE_SECRET_KEY": TEST_SK}, env_file=None)
    assert "STRIPE_PUBLISHABLE_KEY" in str(info.value)


def test_unknown_backend_and_bad_port():
    with pytest.raises(SettingsError):
        load_settings({"LABKIT_BACKEND": "paypal"}, env_file=None)
    with pytest.raises(SettingsError):
        load_settings({"LABKIT_CHECKOUT_PORT": "http"}, env_file=None)


def test_redaction_keeps_kind_and_last_four():
    assert redact(TEST_SK) == "sk_test_…" + TEST_SK[-4:]
    assert redact("whsec_" + "q" * 32) == "whsec_…qqqq"
    assert redact(None) == "(not set)"
    assert TEST_SK not in str(load_settings({"STRIPE_SECRET_KEY": TEST_SK, "STRIPE_PUBLISHABLE_KEY": TEST_PK},
                                            env_file=None).describe())


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path):
    env = tmp_path / ".env"
    env.write_text(f"STRIPE_SECRET_KEY={TEST_SK}\nSTRIPE_PUBLISHABLE_KEY={TEST_PK}\nLABKIT_DB=custom.db\n")
    s = load_settings({}, env_file=env)
    assert s.backend == "stripe" and s.db_path.name == "custom.db"
    s = load_settings({"LABKIT_BACKEND": "fake"}, env_file=env)
    assert s.backend == "fake"
