"""One module per scenario; each ``run(bench)`` returns its rows of the table."""
