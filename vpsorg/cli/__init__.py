"""The ``vpsorg`` command line: the server API from a shell, and a fleet demo.

Examples:
    Install it with ``pip install "vpsorg[cli]"``, then:

    ```sh
    vpsorg demo                                  # a fleet on the bundled simulator
    vpsorg servers list --status active          # needs $VPSORG_API_TOKEN
    vpsorg servers reboot 12345 12346 --wait
    vpsorg --output json servers get 12345 | jq .ip_address
    ```

It is built on the public SDK only ([`vpsorg.AsyncClient`][vpsorg.AsyncClient]), with click for the
commands and rich for tables and progress bars.
"""

from ._main import cli, main

__all__ = ["cli", "main"]
