"""The kiosk's side of コンビニ交付: end-to-end sealing and the kiosk session client."""
