"""The correspondents directory: the people and bodies the office writes to and hears from."""
