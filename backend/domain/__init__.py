"""Domain vocabulary shared by every layer: enums and identifier checks."""
