"""The chat side of the application: parsing commands, the message pipeline, and what the bot says."""
