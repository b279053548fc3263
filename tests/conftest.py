"""Project-wide fixtures. Fixture plugins live in tests/support/."""

import importlib.util

pytest_plugins = [
    name
    for name in ("tests.support.etcd",)
    if importlib.util.find_spec(name) is not None
]


def _plain_logs() -> None:
    """Tests log plain tracebacks at warning level: rich tracebacks of expected conflicts cost
    a third of a second each and would dominate the suite's time."""
    import logging

    import structlog

    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=False,
    )


_plain_logs()


def _hypothesis_profiles() -> None:
    """`make test` (and so CI) runs hypothesis with `--hypothesis-profile=ci`: the same examples
    every run, so a landing is never decided by the luck of a seed. Running pytest directly
    explores new random examples (and keeps failures in .hypothesis/ to replay)."""
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)


_hypothesis_profiles()
