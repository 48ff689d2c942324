"""The Telegram bot: the conversation, /lapor, link codes, and intake by long polling or webhook."""
