"""Landing pages: the officers' overview and the company portal home."""
