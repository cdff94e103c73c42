#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wms.settings")
    from django.core.management import execute_from_command_line

    from history.context import command_recorded

    with command_recorded(sys.argv):  # what a command changes in master data is history with its name
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
