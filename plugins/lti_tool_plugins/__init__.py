"""Built-in provider plugins, one module per certifying body."""
