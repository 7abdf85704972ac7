"""Mail that arrives by itself: an IMAP mailbox and bulk scans become drafts for the mail office to qualify."""
