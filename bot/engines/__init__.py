"""Repair engines: the LLM-free template engine and the LLM engine, found by name."""
