"""One module per CLI subcommand (add_arguments + run)."""
