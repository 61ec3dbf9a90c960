"""Local servers that speak real wire protocols (ComfyUI, Ollama, OpenAI, a polling job API),
started in-process on free 127.0.0.1 ports, for connector tests."""
