"""The one HTTP surface: the health endpoint, the bot's webhook and the web console."""
