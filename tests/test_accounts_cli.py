"""`flask users …` against a real database."""

from __future__ import annotations


def test_create_list_token_password_deactivate(app, runner, client):
    r = runner.invoke(
        args=["users", "create", "boss", "--role", "supervisor", "--name", "王班长"],
        input="long enough pw\nlong enough pw\n",
    )
    assert r.exit_code == 0, r.output
    assert "created boss (supervisor)" in r.output
    r = runner.invoke(args=["users", "token", "boss"])
    token = r.output.strip().splitlines()[-1]
    assert token.startswith("u_")
    assert "boss\tsupervisor token" in runner.invoke(args=["users", "list"]).output
    r = runner.invoke(
        args=["users", "password", "boss"], input="another long pw\nanother long pw\n"
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["users", "deactivate", "boss"])
    assert "(inactive)" in runner.invoke(args=["users", "list"]).output


def test_errors_are_reported(runner):
    r = runner.invoke(args=["users", "create", "x", "--role", "agent", "--password", "short"])
    assert r.exit_code == 1 and "password: at least 10 characters" in r.output
    r = runner.invoke(args=["users", "token", "ghost"])
    assert r.exit_code == 1 and "no user 'ghost'" in r.output
    r = runner.invoke(
        args=[
            "users",
            "create",
            "d",
            "--role",
            "department",
            "--department",
            "nope",
            "--password",
            "long enough pw",
        ]
    )
    assert r.exit_code != 0
