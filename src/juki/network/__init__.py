"""住基ネット itself: signed envelopes, the directory, and delivery that loses nothing."""
