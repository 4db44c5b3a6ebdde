"""Payment gateway adapters: Midtrans, the local payment simulator, and 'switched off'."""
