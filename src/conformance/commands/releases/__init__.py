"""``conformance matrix``: the catalogue across Flax builds and jax releases, one cached environment each.

- :mod:`.pairs`: the flax -> jax/jaxlib table and each environment's requirement set;
- :mod:`.builds`: what ``--flax`` names (a release, a wheel, an sdist, a source tree) and the columns;
- :mod:`.wheels`: building a local Flax into a wheel, and what a wheel holds (content, metadata, commit);
- :mod:`.environments`: building, reusing and pruning uv environments;
- :mod:`.execution`: running the catalogue in one environment;
- :mod:`.columns`: one column, from its environment to its verdicts (shared with ``conformance bisect``);
- :mod:`.results`: one column's verdicts, and the exit status;
- :mod:`.bisection`: the binary search of ``conformance bisect`` and the ranges it checks;
- :mod:`.render`, :mod:`.page`: terminal, Markdown and HTML reports;
- :mod:`.command`: the command itself.
"""
