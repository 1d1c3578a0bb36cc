"""Feishu Open API client. Only this package talks HTTP to Feishu."""
