"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from ivr import create_app

app = create_app()
# This process answers calls: load the pinyin converter now, not on the first prompt.
app.extensions["speech_prompts"].warm_up()
