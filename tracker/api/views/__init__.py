"""API views by area; each parses input, asks access.py, calls one service, serializes."""
