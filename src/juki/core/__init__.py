"""Pure domain building blocks shared by every layer: errors, identifiers, dates and text."""
