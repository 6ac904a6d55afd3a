"""``conformance matrix``: the catalogue across Flax releases, one cached environment each.

- :mod:`.pairs`: the flax -> jax/jaxlib table and each release's requirement set;
- :mod:`.environments`: building and reusing uv environments;
- :mod:`.execution`: running the catalogue in one environment;
- :mod:`.results`: one release's column, and the exit status;
- :mod:`.render`: terminal, Markdown and HTML reports;
- :mod:`.command`: the command itself.
"""
