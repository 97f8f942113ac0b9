"""The retry schedule and the signature, as plain functions."""

from datetime import timedelta

import pytest

from app.webhooks import schedule, signing
from tests.webhooks.support import readme_verify

MINUTE = timedelta(minutes=1)


def test_the_base_schedule_doubles_from_a_minute_up_to_eight_hours_over_about_a_day():
    delays = [schedule.base_delay(n) for n in range(1, schedule.MAX_ATTEMPTS)]

    assert [d / MINUTE for d in delays] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 480, 480]
    assert sum(delays, timedelta()) == timedelta(hours=24, minutes=31)
    assert not schedule.gives_up(schedule.MAX_ATTEMPTS - 1)
    assert schedule.gives_up(schedule.MAX_ATTEMPTS)


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.5, 0.75, 0.999999])
def test_jitter_keeps_each_delay_within_a_quarter_of_the_base(draw):
    for failed in range(1, schedule.MAX_ATTEMPTS):
        base = schedule.base_delay(failed)
        assert base * 0.75 <= schedule.retry_delay(failed, draw) < base * 1.25
    assert schedule.retry_delay(3, 0.5) == 4 * MINUTE


def test_there_is_no_retry_before_a_failure():
    with pytest.raises(ValueError, match="follows a failed attempt"):
        schedule.base_delay(0)


def test_the_secret_is_derived_from_the_server_secret_and_the_salt():
    server = b"s" * 48
    secret = signing.endpoint_secret(server, "salt-1")

    assert secret.startswith("whsec_")
    assert len(secret) == len("whsec_") + 43  # 256 bits, base64url without padding
    assert signing.endpoint_secret(server, "salt-1") == secret
    assert signing.endpoint_secret(server, "salt-2") != secret
    assert signing.endpoint_secret(b"t" * 48, "salt-1") != secret


def test_the_readme_snippet_verifies_what_the_worker_signs():
    verify = readme_verify()
    body = b'{"id":"e1","type":"points.earned"}'
    header = signing.signature_header("whsec_abc", 1_800_000_000, body)

    assert header.startswith("t=1800000000,v1=")
    assert verify("whsec_abc", header, body, now=1_800_000_000)
    assert verify("whsec_abc", header, body, now=1_800_000_000 - 300)
    assert not verify("whsec_abc", header, body, now=1_800_000_000 + 301)
    assert not verify("whsec_abd", header, body, now=1_800_000_000)
    assert not verify("whsec_abc", header, body + b"\n", now=1_800_000_000)
    assert not verify("whsec_abc", "t=x,v1=00", body, now=1_800_000_000)
    assert not verify("whsec_abc", "", body, now=1_800_000_000)
