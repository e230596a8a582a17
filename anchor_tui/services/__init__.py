"""The only API screens call. One unit of work per user action; no Textual here."""
