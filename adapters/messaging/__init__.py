"""Messenger adapters: the WhatsApp transports and the simulator."""
