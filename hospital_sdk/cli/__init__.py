"""Command-line interface (``hospital-sdk``): thin commands over the public API."""
