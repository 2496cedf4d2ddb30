"""The Telegram channel: translate updates to inbound messages, call the core, render its replies."""
