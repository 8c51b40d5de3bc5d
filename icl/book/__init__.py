"""The book's machinery: profiles and budgets, claims tables, the chapter preamble, parameters,
figure style and number formatting. Imports icl.core and icl.runs."""
