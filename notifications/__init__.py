"""How to tell people: one module per channel behind one small interface.

Only the console channel exists yet; Telegram and e-mail, the templates and the durable
outbox come with the notification issue.
"""
