"""Corpus-level linking: passages reused between documents."""
