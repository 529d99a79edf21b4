"""Model backends (Ollama, OpenAI-compatible) behind one small protocol."""
