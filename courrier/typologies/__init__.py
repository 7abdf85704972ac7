"""Typologies of letters: each says its treatment deadline in working days and what silence means."""
