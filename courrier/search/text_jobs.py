"""The jobs that read an attachment's text: extraction, or OCR for a scan."""


def queue_text_extraction(attachment):
    """Enqueue the reading of `attachment`'s text, in the caller's transaction (X fills this in)."""
