"""Which sign-in failures are worth trying again by themselves (the sign-in window's retry).

The messages are libpq's and the server's own words; a real server for each (TLS refused,
pg_hba rule, full server) is out of reach here, the unreachable case runs against a real
socket folder in tests/db/test_auth.py.
"""

from __future__ import annotations

import psycopg
import pytest

from factorypulse_desktop.services.auth import SignInProblem, _connect_problem
from factorypulse_desktop.services.profiles import ConnectionProfile

PROFILE = ConnectionProfile(name="Plant", kind="server", host="db.plant.example", port=5432,
                            database="factorypulse", sslmode="require")


@pytest.mark.parametrize(("message", "temporary", "words"), [
    ('connection to server at "db.plant.example" (10.0.0.5), port 5432 failed: Connection '
     "refused\n\tIs the server running on that host and accepting TCP/IP connections?",
     True, "cannot be reached"),
    ('could not translate host name "db.plant.example" to address: Temporary failure in name '
     "resolution", True, "cannot be found"),
    ('connection to server at "db.plant.example" failed: FATAL:  the database system is '
     "starting up", True, "starting or stopping"),
    ('connection to server at "db.plant.example" failed: FATAL:  sorry, too many clients '
     "already", True, "no free connections"),
    ('connection to server at "db.plant.example" failed: FATAL:  no pg_hba.conf entry for host '
     '"10.0.0.9", user "m.reyes", database "factorypulse", no encryption', False,
     "does not accept this user"),
    ('connection to server at "db.plant.example" failed: server does not support SSL, but SSL '
     "was required", False, "does not offer an encrypted connection"),
    ('connection to server at "db.plant.example" failed: SSL error: certificate verify failed',
     False, "certificate"),
])
def test_only_passing_failures_are_retried_by_themselves(
    message: str, temporary: bool, words: str
) -> None:
    error = _connect_problem(psycopg.OperationalError(message), PROFILE, "m.reyes")
    assert error.problem is SignInProblem.UNREACHABLE
    assert words in str(error)
    assert error.temporary is temporary


def test_a_wrong_password_is_not_retried() -> None:
    error = _connect_problem(
        psycopg.OperationalError('FATAL:  password authentication failed for user "m.reyes"'),
        PROFILE, "m.reyes")
    assert error.problem is SignInProblem.WRONG_PASSWORD
    assert not error.temporary
