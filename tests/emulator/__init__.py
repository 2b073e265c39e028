"""Emulator controls: seed files, resets, the request journal, faults, the pytest plugin."""
