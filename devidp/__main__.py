"""``python -m devidp <command>``: Django's command line for the development identity provider.

``serve [--port 8800] [--redirect-uri URI ...]`` migrates, makes the demo users and the Warden
client, and serves on 127.0.0.1; ``user NAME --disable | --groups a,b | ...`` changes a demo user.
"""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devidp.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if len(argv) > 1 and argv[1] in ("serve", "setup", "user", "reset"):
        argv[1] = f"devidp_{argv[1]}"
    execute_from_command_line(["devidp", *argv[1:]])


if __name__ == "__main__":
    main()
