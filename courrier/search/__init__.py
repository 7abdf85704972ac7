"""Finding letters by any word they contain: the text of attachments (extraction, OCR) and the full-text index."""
