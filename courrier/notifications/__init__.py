"""E-mail notifications: an outbox filled in the transaction of the change, a sender that empties it.

- `listeners.py` turns domain signals (routing, copies, decisions) into outbox rows, in the same
  transaction as the change: the letter and its notices commit together or not at all;
- `deadlines.py` queues due-soon and late notices (a periodic job each working day at 07:00, or `flask
  notifications deadlines`), each once;
- `mails.py` writes the French text and HTML of each kind of mail;
- `sender.py` claims pending rows, sends them over SMTP and marks each one sent as soon as the server
  accepted it (a periodic job every NOTIFY_INTERVAL seconds, or `flask notifications send`), so a sender
  killed mid-batch loses nothing.
"""
