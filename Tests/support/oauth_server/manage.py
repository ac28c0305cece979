#!/usr/bin/env python3
"""Django's command line for the test server's project (OAUTH_TEST_DIR and OAUTH_TEST_ISSUER
must be set, as server.py sets them)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oauth_test.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
