"""The ``conformance`` command and its subcommands, built on the engine; none imports another."""
