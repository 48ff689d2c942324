"""The IKI document importer: the document, its blocks, the people and their superiors,
and applying them to the roster."""
