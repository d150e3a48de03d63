"""The company portal's dialogue pages and the notifications every account receives."""
