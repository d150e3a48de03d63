"""Dialogues (対話): scheduling, series, invitations, replies, calendar export."""
