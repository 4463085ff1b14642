"""The counter terminal's certificate screens (統合端末: 証明書交付), server-rendered in Japanese.

Every screen works from the keyboard alone: each input has a label, the tab order is the
reading order, the main actions have access keys (shown on screen), and focus is always
visible. Routes only translate: the services decide, authorise and log.

`app` builds the terminal and adds the screens of `signin`, `counter` and `wide_area`; `session`
holds the operator's sign-in and CSRF checks, `forms` the posted forms, and `screens` what every
screen answers with.
"""
