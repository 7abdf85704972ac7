"""E-mail notifications: an outbox filled in the transaction of the change, a sender that empties it.

- `listeners.py` turns domain signals (routing, copies, decisions) into outbox rows, in the same
  transaction as the change: the letter and its notices commit together or not at all;
- `deadlines.py` queues due-soon and late notices (`flask notifications deadlines`, daily), each once;
- `mails.py` writes the French text and HTML of each kind of mail;
- `sender.py` claims pending rows, sends them over SMTP and marks each one sent as soon as the server
  accepted it (`flask notifications send [--loop]`), so a sender killed mid-batch loses nothing.
"""
