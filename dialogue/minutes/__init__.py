"""Minutes (議事録): revisions, review lifecycle, labels per section, the public summary."""
