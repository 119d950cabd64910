"""DMP: the shared medical record service."""
