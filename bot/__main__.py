"""``python -m bot`` is the same as the ``qabot`` console script."""
from bot.cli import app

app()
