"""bosun.board.postgres: the board in a PostgreSQL database (one schema per workspace)."""
