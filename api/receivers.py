"""Events of the apps below that become webhook messages (filled in with the webhooks)."""
