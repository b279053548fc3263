"""Project-wide fixtures. Fixture plugins live in tests/support/."""

import importlib.util

pytest_plugins = [
    name
    for name in ("tests.support.etcd",)
    if importlib.util.find_spec(name) is not None
]
