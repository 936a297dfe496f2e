"""gunicorn reads this file from the working directory (the repository root).

Settings are checked in the master before any worker starts: bad ones are printed one
per line and gunicorn exits with status 2, instead of each worker failing to boot.
"""

import sys

from core.config import SettingsError, load_config


def on_starting(server) -> None:
    try:
        load_config()
    except SettingsError as exc:
        exc.show(sys.stderr)
        sys.exit(exc.exit_code)
