#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalsite.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from evalsite.var_dir import prepare_var_dir

    try:
        prepare_var_dir()  # var/ and the local secret key, before the settings are read
    except ImproperlyConfigured as err:  # a variable with an invalid value: one line, no trace
        print(f"Configuration error: {err}", file=sys.stderr)
        sys.exit(2)
    execute_from_command_line(sys.argv)
