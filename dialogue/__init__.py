"""The domain: register, dialogues, briefings, minutes, feedback, consultation desk."""
