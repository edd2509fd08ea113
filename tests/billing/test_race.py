"""Two submits racing for the last credits: exactly one wins. Only PostgreSQL runs the two
transactions at once (SQLite's single writer serialises them anyway); CI's PostgreSQL pass runs
this with scripts/with_postgres.py."""

import threading

import pytest
from django.db import connection, connections

from billing.errors import QuotaExceeded
from billing.models import CreditEntry
from consent.models import Purpose
from rendering.models import RenderJob
from rendering.services import submit_render
from tests.billing.conftest import give

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
    ),
]


def test_two_submits_for_the_last_credits_exactly_one_wins(studio):
    owner, avatar, script = studio
    give(owner.workspace, 5)  # one render's estimate (3.4 s) fits, two do not
    start = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            start.wait()
            submit_render(
                workspace=owner.workspace,
                user=owner.user,
                avatar=avatar,
                script=script,
                purpose=Purpose.INTERNAL,
            )
            outcomes.append("queued")
        except QuotaExceeded:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["queued", "refused"]
    assert RenderJob.objects.count() == 1
    assert CreditEntry.balance_of(owner.workspace.pk) == 5000 - 3429
