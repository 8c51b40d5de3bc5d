"""Running the book: the model plan, chapter execution, verification, the benchmark, the scorecard
and rerun pages. Imports every layer below it."""
