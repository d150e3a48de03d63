"""Identity: accounts, passwords, second factor, sessions, throttling."""
