"""The Textual UI: one app, five screens, widgets, and one stylesheet (vtui.tcss).

Screens never call a backend on the event loop: they start workers, and the
workers hand results back as messages.
"""
