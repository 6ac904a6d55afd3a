"""The engine: contract, loading, registry, profiles, expectations, verdicts, reports, the runner and the plugin."""
