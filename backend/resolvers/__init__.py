"""The functions that read and write; the schema wires them to fields."""
