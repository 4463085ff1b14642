"""HTTP entry points: they translate requests into commands and domain errors into responses."""
