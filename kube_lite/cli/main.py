"""The `kube-lite` command."""

from __future__ import annotations

import click

from kube_lite import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kube-lite")
def cli() -> None:
    """kube-lite: a small, embeddable Kubernetes control plane."""


def main() -> None:
    cli()
