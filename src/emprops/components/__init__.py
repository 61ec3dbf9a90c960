"""Components: the typed, versioned workflows a step names, and compiling a step into a job."""
