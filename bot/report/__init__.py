"""Reports built from a RunResult: markdown (pull request body, job summary, comments)."""
