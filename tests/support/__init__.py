"""Helpers shared by the tests, one module per topic: plain functions, constants, data classes
and factories. Fixtures stay in ``conftest.py`` files (and may call these); a test imports its
helpers from here, never from a ``conftest.py`` or from another test module."""
