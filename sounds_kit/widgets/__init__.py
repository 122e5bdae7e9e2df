"""The anywidgets: shared plumbing (``base``), the environment check and the sing widget."""
