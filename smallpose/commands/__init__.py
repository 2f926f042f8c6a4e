"""Subcommands of the smallpose CLI, one module each."""
