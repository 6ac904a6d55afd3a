"""What properties use: strategies, oracles, tolerances, assertions, compiled calls, FLOPs, tree paths.

Nothing here imports the engine or the commands.
"""
