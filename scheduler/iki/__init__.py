"""The IKI document importer: its file formats (text, Word, PDF), the document, its blocks,
the people and their superiors, and applying them to the roster."""
